#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The C library's text for an `errno` value.
func systemErrorMessage(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text)
}

/// The last path component of `path`.
func baseName(_ path: String) -> String {
    guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
    return String(path[path.utf8.index(after: slash)...])
}

/// A file opened for reading with plain POSIX calls (no Foundation on the hot path).
final class InputFile {
    let path: String
    private let fd: Int32

    /// Opens the regular file at `path` (or a symbolic link to one). Anything else (a FIFO, a device, a socket, a
    /// directory) is refused as `path:1` without being read: the open does not block (a FIFO nobody writes to would
    /// otherwise hang ingest), and the type is checked on the opened descriptor, so it cannot be swapped in between.
    init(path: String) throws(ExtractError) {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path, "open for reading", errno: errno) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let code = errno
            close(fd)
            throw .io(path, "inspect", errno: code)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw .notRegularFile(path)
        }
        // A regular file's reads never block; clear the flag anyway so reads behave as on any plain descriptor.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Reads up to `count` bytes into `buffer`; 0 at end of file.
    func readBytes(into buffer: UnsafeMutableRawPointer, count: Int) throws(ExtractError) -> Int {
        while true {
            let n = read(fd, buffer, count)
            if n >= 0 { return n }
            if errno != EINTR { throw .io(path, "read", errno: errno) }
        }
    }

    /// The whole file, which must be at most `limit` bytes; `nil` when it is longer.
    static func contents(of path: String, limit: Int) throws(ExtractError) -> [UInt8]? {
        let file = try InputFile(path: path)
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var total = 0
        while total <= limit {
            let n = try bytes.withUnsafeMutableBytes { raw in
                Result { () throws(ExtractError) in try file.readBytes(into: raw.baseAddress! + total, count: limit + 1 - total) }
            }.get()
            if n == 0 { break }
            total += n
        }
        guard total <= limit else { return nil }
        bytes.removeLast(bytes.count - total)
        return bytes
    }
}

/// A file written through a large buffer with plain POSIX calls.
final class OutputFile {
    let path: String
    private let fd: Int32
    /// Bytes not yet written; callers append to it and call ``flushIfFull()``.
    var buffer: [UInt8] = []
    private let flushThreshold: Int

    /// Creates or truncates `path`; with `exclusive`, fails if it exists. New files get `mode`.
    init(path: String, exclusive: Bool = false, mode: mode_t = 0o644, bufferSize: Int = 1 << 18) throws(ExtractError) {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC)
        let fd = open(path, flags, mode)
        guard fd >= 0 else {
            if errno == EEXIST && exclusive { throw .alreadyExists(path) }
            throw .io(path, "create", errno: errno)
        }
        self.path = path
        self.fd = fd
        self.flushThreshold = bufferSize
        buffer.reserveCapacity(bufferSize + 4096)
    }

    deinit { close(fd) }

    /// Writes the buffer out once it has reached the threshold.
    @inline(__always)
    func flushIfFull() throws(ExtractError) {
        if buffer.count >= flushThreshold { try flush() }
    }

    /// Writes out everything buffered.
    func flush() throws(ExtractError) {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { raw in write(fd, raw.baseAddress! + offset, raw.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path, "write", errno: errno)
            }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Sets the file's permission bits regardless of the process umask.
    func setMode(_ mode: mode_t) throws(ExtractError) {
        guard fchmod(fd, mode) == 0 else { throw .io(path, "set the mode of", errno: errno) }
    }

    /// Flushes and forces the data to stable storage.
    func sync() throws(ExtractError) {
        try flush()
        guard fsync(fd) == 0 else { throw .io(path, "sync", errno: errno) }
    }
}
