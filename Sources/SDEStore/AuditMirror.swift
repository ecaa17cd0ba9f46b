import SDEAudit
import SDECommon

#if canImport(Glibc)
import Glibc
#endif

/// The audit trail's file store: `audit-YYYY-MM-DD.jsonl` per UTC day, one canonical event per line,
/// appended and fsynced. Written only through ``AuditTrail``.
public struct AuditMirror: Sendable {
    /// The directory holding the day files (`AuditLogs/` by default).
    public let directory: String

    /// Where each file ended before an append, so a failed append can be undone.
    struct Undo {
        fileprivate var sizes: [(path: String, size: Int)] = []
    }

    /// A mirror in `directory`.
    public init(directory: String) {
        self.directory = directory
    }

    /// Runs `body` holding an exclusive lock on the mirror directory (`flock` on its `.lock` file), shared by every
    /// broker process that writes this mirror, so that one process's append, commit or rollback never interleaves with
    /// another's. Waits at most `timeout`, without blocking a thread.
    ///
    /// The lock is fair: a waiter first takes the `.turnstile` lock and holds it while it waits for `.lock`, and every
    /// taker passes the turnstile first, so a holder that lets go cannot take the lock again ahead of one already waiting
    /// (`serve` writing group after group would otherwise starve a command beside it, which polls).
    func withLock<Result>(
        timeout: Duration, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        let deadline = ContinuousClock.now + timeout
        let turnstile = try openLockFile(".turnstile")
        defer { close(turnstile) }
        try await lock(turnstile, until: deadline)
        let fd = try openLockFile(".lock")
        defer { close(fd) }  // closing the descriptor releases the lock
        try await lock(fd, until: deadline)
        flock(turnstile, LOCK_UN)
        return try await body()
    }

    private func openLockFile(_ name: String) throws -> Int32 {
        let path = directory + "/" + name
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw StoreError.auditUnavailable("cannot open the audit mirror lock \(path) (errno \(errno))") }
        return fd
    }

    /// Takes the exclusive `flock` on `fd`, polling every millisecond until `deadline`.
    private func lock(_ fd: Int32, until deadline: ContinuousClock.Instant) async throws {
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK, ContinuousClock.now < deadline else {
                throw StoreError.auditUnavailable("the audit mirror \(directory) stayed locked by another broker process")
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// The day files, oldest first.
    public func files() throws(StoreError) -> [String] {
        guard let dir = opendir(directory) else { throw .auditUnavailable("cannot read the audit mirror directory \(directory)") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix("audit-"), name.hasSuffix(".jsonl") { names.append(name) }
        }
        return names.sorted().map { directory + "/" + $0 }
    }

    func path(for event: AuditEvent) -> String { path(at: event.time) }

    /// The day file events at `time` go to.
    func path(at time: AuditTimestamp) -> String { "\(directory)/audit-\(time.date).jsonl" }

    /// Room a write needs at least on the mirror's file system, in bytes.
    static let minimumFreeBytes: UInt64 = 1 << 20

    /// Whether an append at `time` could be written now, checked without appending anything: the directory's lock file
    /// opens, the day's file opens for appending as a regular file (or, before its first event, the directory lets it be
    /// created), and the file system has at least ``minimumFreeBytes`` free. An immutable file, a directory or FIFO in
    /// the file's place, a read-only or full file system all fail it.
    func canAppend(at time: AuditTimestamp) -> Bool {
        let lock = open(directory + "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard lock >= 0 else { return false }
        close(lock)
        let file = path(at: time)
        let fd = open(file, O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC)
        if fd >= 0 {
            defer { close(fd) }
            var status = stat()
            guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return false }
        } else {
            guard errno == ENOENT, access(directory, W_OK | X_OK) == 0 else { return false }
        }
        var space = statvfs()
        guard statvfs(directory, &space) == 0 else { return false }
        return UInt64(space.f_bavail) * UInt64(space.f_frsize) >= Self.minimumFreeBytes
    }

    /// Appends `events` (in order) to their day files and fsyncs them; on any failure undoes what it wrote and throws.
    func append(_ events: [AuditEvent]) throws(StoreError) -> Undo {
        var undo = Undo()
        var byFile: [(path: String, bytes: [UInt8])] = []
        for event in events {
            let path = path(for: event)
            if byFile.last?.path != path { byFile.append((path, [])) }
            AuditJSONL.append(event, to: &byFile[byFile.count - 1].bytes)
        }
        for (path, bytes) in byFile {
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
            guard fd >= 0 else {
                rollback(undo)
                throw .auditUnavailable("cannot open the audit mirror file \(path) (errno \(errno))")
            }
            defer { close(fd) }
            let size = Int(lseek(fd, 0, SEEK_END))
            undo.sizes.append((path, size))
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == bytes.count, fsync(fd) == 0 else {
                rollback(undo)
                throw .auditUnavailable("cannot write the audit mirror file \(path) (errno \(errno))")
            }
        }
        return undo
    }

    /// Cuts each file back to where it ended before the append.
    func rollback(_ undo: Undo) {
        for (path, size) in undo.sizes.reversed() {
            if size == 0 { unlink(path) } else { Glibc.truncate(path, off_t(size)) }
        }
    }

    /// Calls `body` with each line of the mirror (without its newline), its file and its 1-based line number, in order.
    /// Reads in chunks, so memory stays flat however long the trail.
    public func forEachLine(_ body: (_ line: ArraySlice<UInt8>, _ file: String, _ lineNumber: Int) throws -> Void) throws {
        for path in try files() {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw StoreError.auditUnavailable("cannot read the audit mirror file \(path)") }
            defer { close(fd) }
            var carry: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 22)
            var lineNumber = 0
            while true {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                guard n >= 0 else { throw StoreError.auditUnavailable("cannot read the audit mirror file \(path)") }
                if n == 0 { break }
                carry.append(contentsOf: chunk[0..<n])
                var start = carry.startIndex
                while let newline = carry[start...].firstIndex(of: 0x0A) {
                    lineNumber += 1
                    try body(carry[start..<newline], path, lineNumber)
                    start = newline + 1
                }
                carry.removeSubrange(..<start)
            }
            if !carry.isEmpty {
                lineNumber += 1
                try body(carry[...], path, lineNumber)
            }
        }
    }

    /// The last event in the mirror, or nil when it is empty: read from the tail of the newest non-empty file.
    func lastEvent() throws -> AuditEvent? {
        for path in try files().reversed() {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw StoreError.auditUnavailable("cannot read the audit mirror file \(path)") }
            defer { close(fd) }
            let size = Int(lseek(fd, 0, SEEK_END))
            guard size > 0 else { continue }
            let tail = min(size, 1 << 16)
            var bytes = [UInt8](repeating: 0, count: tail)
            guard bytes.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, tail, off_t(size - tail)) }) == tail, bytes.last == 0x0A else {
                throw StoreError.auditUnavailable("the audit mirror file \(path) ends with a torn line: run `sde-broker audit verify`")
            }
            bytes.removeLast()
            let start = bytes.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
            do {
                return try AuditJSONL.decode(bytes[start...])
            } catch {
                throw StoreError.auditUnavailable("the audit mirror's last line is damaged: run `sde-broker audit verify`")
            }
        }
        return nil
    }

    /// Whether the mirror holds the event at `head` (same sequence and hash).
    func contains(_ head: AuditHead) throws -> Bool {
        var found = false
        try forEachLine { line, _, _ in
            if !found, let event = try? AuditJSONL.decode(line), event.sequence == head.sequence { found = event.hash == head.hash }
        }
        return found
    }

    /// Removes every line after the event with sequence `sequence` (0: every line): events written to the mirror whose
    /// database commit never happened (the broker stopped in between), so they were never acted on.
    func truncate(after sequence: Int64) throws {
        var cut: [(path: String, offset: Int)] = []
        var offset = 0
        var currentFile = ""
        try forEachLine { line, file, _ in
            if file != currentFile { currentFile = file; offset = 0 }
            if let event = try? AuditJSONL.decode(line), event.sequence > sequence, cut.last?.path != file { cut.append((file, offset)) }
            offset += line.count + 1
        }
        for (path, offset) in cut {
            if offset == 0 { unlink(path) } else { Glibc.truncate(path, off_t(offset)) }
        }
    }
}
