import SDEStore
import Foundation

/// The CSV of rows that ingest did not load: `file,line,reason,raw_line`, mode 0600 (raw rows hold NHS numbers).
///
/// Each extract file's rows are written to a `.part` file first and appended to the quarantine file only when that
/// file's load commits, so the quarantine file always matches what the database holds.
final class QuarantineFile {
    let path: String
    private var rows = 0

    init(path: String) throws {
        self.path = path
        guard !FileManager.default.fileExists(atPath: path) else { throw IngestError.io("quarantine file \(path) exists already: move it away first") }
    }

    /// Starts collecting one extract file's rows.
    func startFile() throws -> Pending { try Pending(owner: self) }

    /// The quarantine file's path when any row was quarantined; otherwise `nil`, and no file is left behind.
    func finish() throws -> String? { rows > 0 ? path : nil }

    /// One extract file's quarantined rows, until its load commits.
    final class Pending {
        private unowned let owner: QuarantineFile
        private let partPath: String
        private let handle: FileHandle
        private var buffer: [UInt8] = []
        private var rows = 0

        fileprivate init(owner: QuarantineFile) throws {
            self.owner = owner
            partPath = owner.path + ".part"
            guard FileManager.default.createFile(atPath: partPath, contents: nil, attributes: [.posixPermissions: 0o600]),
                let handle = FileHandle(forWritingAtPath: partPath)
            else { throw IngestError.io("cannot write the quarantine file \(partPath)") }
            self.handle = handle
        }

        deinit {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: partPath)
        }

        /// Adds one row; `raw` is the line as read (nil when the row was valid but collided with loaded data).
        func write(file: String, line: Int, reason: String, raw: [UInt8]?) throws {
            Self.field(Array(file.utf8), &buffer)
            buffer.append(UInt8(ascii: ","))
            buffer.append(contentsOf: Array(String(line).utf8))
            buffer.append(UInt8(ascii: ","))
            Self.field(Array(reason.utf8), &buffer)
            buffer.append(UInt8(ascii: ","))
            Self.field(raw ?? [], &buffer)
            buffer.append(0x0A)
            rows += 1
            if buffer.count > 1 << 20 { try flush() }
        }

        /// Appends this file's rows to the quarantine file, creating it with its header on first use.
        func commit() throws {
            try flush()
            guard rows > 0 else { return }
            let fm = FileManager.default
            if !fm.fileExists(atPath: owner.path) {
                guard fm.createFile(atPath: owner.path, contents: Data("file,line,reason,raw_line\n".utf8), attributes: [.posixPermissions: 0o600])
                else { throw IngestError.io("cannot write the quarantine file \(owner.path)") }
            }
            guard let out = FileHandle(forWritingAtPath: owner.path), let data = fm.contents(atPath: partPath) else {
                throw IngestError.io("cannot write the quarantine file \(owner.path)")
            }
            defer { try? out.close() }
            do {
                try out.seekToEnd()
                try out.write(contentsOf: data)
                try out.synchronize()
            } catch { throw IngestError.io("cannot write the quarantine file \(owner.path)") }
            owner.rows += rows
        }

        private func flush() throws {
            guard !buffer.isEmpty else { return }
            do { try handle.write(contentsOf: buffer) } catch { throw IngestError.io("cannot write the quarantine file \(partPath)") }
            buffer.removeAll(keepingCapacity: true)
        }

        /// An RFC 4180 field: quoted, with quotes doubled.
        private static func field(_ bytes: [UInt8], _ out: inout [UInt8]) {
            out.append(UInt8(ascii: "\""))
            for b in bytes {
                if b == UInt8(ascii: "\"") { out.append(b) }
                out.append(b)
            }
            out.append(UInt8(ascii: "\""))
        }
    }
}
