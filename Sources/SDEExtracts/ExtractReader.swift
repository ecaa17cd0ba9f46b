import Crypto
import SDECommon

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Streams one extract file: detects its kind from the header, validates every data record and pseudonymises its NHS number.
///
/// Memory stays flat (one chunk of the file at a time). Every data record gives exactly one item, a record or a
/// quarantined row, so `rows read = records + quarantined` holds by construction:
///
/// ```swift
/// let reader = try ExtractReader(path: "extracts/social_care_E06000001.csv", laCodes: codes, pseudonymiser: pseudonymiser)
/// while let batch = try reader.next(batchOf: 10_000) {
///     // COPY batch.care (or batch.hospital); write batch.quarantined to the quarantine file
/// }
/// print(reader.rowsRead)
/// ```
///
/// A reader belongs to one task at a time (it owns a file descriptor and a buffer), so it is not `Sendable`.
public final class ExtractReader {
    /// The file's name, without its directory, as used in quarantined rows.
    public let fileName: String
    /// Social care (of which local authority) or hospital, from the header row.
    public let kind: ExtractKind
    /// Data records read so far (the header is not counted).
    public private(set) var rowsRead = 0
    /// Data records quarantined so far.
    public private(set) var rowsQuarantined = 0

    /// Bytes of the file read so far (the header included), for progress.
    public var bytesRead: Int { scanner.bytesConsumed }

    private let scanner: CSVScanner
    private let validator: RowValidator
    /// The local authority of a social care extract.
    private let fileLA: String?
    private let fileLABytes: [UInt8]

    /// Opens `path` and reads its header row.
    ///
    /// - Parameters:
    ///   - laCodes: the valid local authority codes (from ``LocalAuthority/load(from:)``).
    ///   - chunkSize: bytes read from the file at a time.
    /// - Throws: ``ExtractError`` when the file cannot be read, is empty, has neither header, or is a social care extract
    ///   not named `social_care_<LA_CODE>.csv` with a code from `laCodes`.
    public init(path: String, laCodes: Set<String>, pseudonymiser: Pseudonymiser, chunkSize: Int = 1 << 20) throws(ExtractError) {
        let file = try InputFile(path: path)
        scanner = CSVScanner(file: file, chunkSize: chunkSize)
        fileName = scanner.fileName
        validator = RowValidator(pseudonymiser: pseudonymiser, laCodes: laCodes)
        guard let header = try scanner.nextRecord() else { throw .emptyFile(fileName) }
        if header.problem == nil && Self.fieldsEqual(header, ExtractKind.socialCareColumns) {
            let prefix = "social_care_", suffix = ".csv"
            let code = String(fileName.dropFirst(prefix.count).dropLast(suffix.count))
            guard fileName.hasPrefix(prefix), fileName.hasSuffix(suffix), laCodes.contains(code) else { throw .badFileName(fileName) }
            kind = .socialCare(laCode: code)
            fileLA = code
            fileLABytes = Array(code.utf8)
        } else if header.problem == nil && Self.fieldsEqual(header, ExtractKind.hospitalColumns) {
            kind = .hospital
            fileLA = nil
            fileLABytes = []
        } else {
            throw .unknownHeader(fileName)
        }
    }

    /// The next data record, validated, or its quarantine entry; `nil` at the end of the file.
    ///
    /// - Throws: ``ExtractError`` only for file-level failures (a read error, or a record over 1 MiB).
    public func next() throws(ExtractError) -> ExtractItem? {
        guard let record = try scanner.nextRecord() else { return nil }
        rowsRead += 1
        do throws(RowProblem) {
            if let fileLA { return .care(try validator.care(record, fileLA: fileLA, fileLABytes: fileLABytes)) }
            return .hospital(try validator.hospital(record))
        } catch {
            return .quarantined(quarantine(record, error))
        }
    }

    /// Up to `size` data records (loaded and quarantined together); `nil` once the file is exhausted.
    ///
    /// - Throws: ``ExtractError`` only for file-level failures (a read error, or a record over 1 MiB).
    public func next(batchOf size: Int) throws(ExtractError) -> ExtractBatch? {
        var batch = ExtractBatch()
        if fileLA == nil { batch.hospital.reserveCapacity(size) } else { batch.care.reserveCapacity(size) }
        var count = 0
        while count < size, let record = try scanner.nextRecord() {
            count += 1
            do throws(RowProblem) {
                if let fileLA {
                    batch.care.append(try validator.care(record, fileLA: fileLA, fileLABytes: fileLABytes))
                } else {
                    batch.hospital.append(try validator.hospital(record))
                }
            } catch {
                batch.quarantined.append(quarantine(record, error))
            }
        }
        rowsRead += count
        return count == 0 ? nil : batch
    }

    private func quarantine(_ record: CSVRecord, _ problem: RowProblem) -> QuarantinedRow {
        rowsQuarantined += 1
        return QuarantinedRow(fileName: fileName, lineNumber: record.line, reason: problem.reason, rawLine: Array(record.raw))
    }

    /// The extract files in `directory`, sorted by name: `hospital_spells.csv` and every `social_care_*.csv`, as full paths.
    /// They are listed by name only; opening one that is not a regular file (a FIFO, a device) is refused as `file:1`.
    public static func extractFiles(in directory: String) throws(ExtractError) -> [String] {
        guard let dir = opendir(directory) else { throw .io(directory, "open directory", errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == ExtractKind.hospitalFileName || (name.hasPrefix("social_care_") && name.hasSuffix(".csv")) { names.append(name) }
        }
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        return names.sorted().map { base + $0 }
    }

    /// The lower-case hex SHA-256 of the regular file at `path` (anything else is refused as `path:1`, unread), read in
    /// chunks: how ingest recognises a file it loaded before.
    public static func sha256(ofFile path: String) throws(ExtractError) -> String {
        let file = try InputFile(path: path)
        var hasher = SHA256()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try chunk.withUnsafeMutableBytes { raw in
                Result { () throws(ExtractError) in try file.readBytes(into: raw.baseAddress!, count: raw.count) }
            }.get()
            if n == 0 { break }
            hasher.update(data: chunk[..<n])
        }
        return Hex.encode(hasher.finalize())
    }

    private static func fieldsEqual(_ record: CSVRecord, _ columns: [String]) -> Bool {
        guard record.fieldCount == columns.count else { return false }
        for (i, column) in columns.enumerated() where !record.field(i).elementsEqual(column.utf8) { return false }
        return true
    }
}

@available(*, unavailable)
extension ExtractReader: Sendable {}
