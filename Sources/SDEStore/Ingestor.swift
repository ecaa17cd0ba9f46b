import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO
import SDECommon
public import SDEExtracts

/// Loads raw extracts into `linked`: every row validated and pseudonymised on the way in, or quarantined with a reason.
///
/// For each file: its name and SHA-256 are looked up in `broker.ingest_file` (a file already loaded is skipped, so
/// re-ingesting loads nothing twice); its rows stream through the validator into a temporary staging table with
/// COPY, in batches; then one transaction merges persons, events or spells into `linked` and records the file.
/// Rows that collide with rows already loaded (same local authority and event reference, or same provider and
/// spell reference) are quarantined too, so for every file `rows read = rows loaded + rows quarantined`.
///
/// Before anything is written, ingest checks the directory, every file's header, the database, and that the key is
/// the one earlier loads used (by its check value): a wrong key would make pseudonyms that never link.
public struct Ingestor: Sendable {
    /// What happened to one file.
    public struct FileReport: Sendable, Equatable {
        public var file: String
        public var rowsRead = 0
        public var rowsLoaded = 0
        public var rowsQuarantined = 0
        /// True when the same file (by SHA-256) was loaded before and so was skipped.
        public var alreadyIngested = false
    }

    /// What a whole ingest did.
    public struct Report: Sendable, Equatable {
        public var files: [FileReport] = []
        /// Where quarantined rows were written, when any were.
        public var quarantinePath: String?
        public var rowsRead: Int { files.reduce(0) { $0 + $1.rowsRead } }
        public var rowsLoaded: Int { files.reduce(0) { $0 + $1.rowsLoaded } }
        public var rowsQuarantined: Int { files.reduce(0) { $0 + $1.rowsQuarantined } }
    }

    let pseudonymiser: Pseudonymiser
    let localAuthorityCodes: Set<String>
    let quarantinePath: String
    let batchSize: Int

    /// An ingestor with the key's pseudonymiser, the valid LA codes, and where to write quarantined rows (CSV, mode 0600:
    /// it holds raw rows, NHS numbers included, for the data engineer to correct and resend).
    public init(pseudonymiser: Pseudonymiser, localAuthorityCodes: Set<String>, quarantinePath: String, batchSize: Int = 20_000) {
        self.pseudonymiser = pseudonymiser
        self.localAuthorityCodes = localAuthorityCodes
        self.quarantinePath = quarantinePath
        self.batchSize = batchSize
    }

    /// Ingests every extract in `directory`.
    public func ingest(directory: String, db: Database) async throws -> Report {
        let paths = try extractFiles(in: directory)
        try await checkKey(db)
        let quarantine = try QuarantineFile(path: quarantinePath)
        var report = Report()
        for path in paths {
            report.files.append(try await ingestFile(path, db: db, quarantine: quarantine))
        }
        report.quarantinePath = try quarantine.finish()
        if report.files.contains(where: { !$0.alreadyIngested }) {
            // Fresh statistics at once, rather than whenever autovacuum gets to it: the curated views' plans (hash
            // joins, index-only scans) depend on them, and a first query right after a big load would pay.
            try await db.execute("ANALYZE linked.person, linked.care_event, linked.hospital_spell", "analyse the loaded tables")
        }
        return report
    }

    /// The extract files in `directory`, each opened and its header checked, or an error before anything is loaded.
    private func extractFiles(in directory: String) throws -> [String] {
        let paths: [String]
        do {
            paths = try ExtractReader.extractFiles(in: directory)
            guard !paths.isEmpty else { throw StoreError.ingestRefused("no extracts (social_care_*.csv, hospital_spells.csv) in \(directory)") }
            for path in paths {
                _ = try ExtractReader(path: path, laCodes: localAuthorityCodes, pseudonymiser: pseudonymiser)
            }
        } catch let error as ExtractError {
            throw StoreError.ingestRefused("\(error.message); nothing was loaded")
        }
        return paths
    }

    /// Refuses a key other than the one earlier loads used; records the check value on first use.
    private func checkKey(_ db: Database) async throws {
        let rows = try await db.query("SELECT check_value FROM broker.ingest_key", "read the key check value")
        var stored: String?
        for try await value in rows.decode(String.self) { stored = value }
        if let stored, stored != pseudonymiser.keyCheckValue {
            throw StoreError.ingestRefused(
                "the key file is not the key earlier extracts were pseudonymised with: pseudonyms would not link; nothing was loaded")
        }
        if stored == nil {
            try await db.execute(
                "INSERT INTO broker.ingest_key (check_value) VALUES (\(pseudonymiser.keyCheckValue)) ON CONFLICT DO NOTHING",
                "record the key check value")
        }
    }

    private func ingestFile(_ path: String, db: Database, quarantine: QuarantineFile) async throws -> FileReport {
        let name = (path as NSString).lastPathComponent
        var report = FileReport(file: name)
        let digest = try Self.sha256(ofFile: path)
        let seen = try await db.query("SELECT 1 FROM broker.ingest_file WHERE file_name = \(name) AND file_sha256 = \(digest)", "look up \(name)")
        for try await _ in seen { report.alreadyIngested = true }
        if report.alreadyIngested { return report }

        let reader = try ExtractReader(path: path, laCodes: localAuthorityCodes, pseudonymiser: pseudonymiser)
        let target = StagingTable(kind: reader.kind)
        let pending = try quarantine.startFile()
        try await db.transaction("ingest of \(name)") {
            try await db.execute(unsafeSQL: target.createSQL, "create staging for \(name)")
            let batchSize = self.batchSize
            let counts = try await Self.copy(reader, into: target, db: db, batchSize: batchSize, quarantine: pending)
            report.rowsRead = counts.read
            try await db.execute(unsafeSQL: target.personSQL, "load persons of \(name)")
            let duplicates = try await db.query(PostgresQuery(unsafeSQL: target.mergeSQL), "load \(name)")
            var duplicateCount = 0
            for try await (line, reason) in duplicates.decode((Int, String).self) {
                try pending.write(file: name, line: line, reason: reason, raw: nil)
                duplicateCount += 1
            }
            report.rowsQuarantined = counts.quarantined + duplicateCount
            report.rowsLoaded = report.rowsRead - report.rowsQuarantined
            try await db.execute(
                """
                INSERT INTO broker.ingest_file (file_sha256, file_name, rows_read, rows_loaded, rows_quarantined)
                VALUES (\(digest), \(name), \(report.rowsRead), \(report.rowsLoaded), \(report.rowsQuarantined))
                """,
                "record \(name)"
            )
            try await db.execute(unsafeSQL: "DROP TABLE \(target.name)", "drop staging for \(name)")
        }
        try pending.commit()
        return report
    }

    /// Streams the file's valid rows into the staging table with COPY; invalid rows go to quarantine.
    private static func copy(
        _ reader: ExtractReader, into target: StagingTable, db: Database, batchSize: Int, quarantine: QuarantineFile.Pending
    ) async throws -> (read: Int, quarantined: Int) {
        var read = 0
        var quarantined = 0
        try await db.connection.copyFrom(table: target.name, columns: target.columns, logger: db.logger) { writer in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(batchSize * 160)
            do {
                while let batch = try reader.next(batchOf: batchSize) {
                    buffer.removeAll(keepingCapacity: true)
                    for record in batch.care { CopyText.append(record, to: &buffer) }
                    for record in batch.hospital { CopyText.append(record, to: &buffer) }
                    for row in batch.quarantined {
                        try quarantine.write(file: row.fileName, line: row.lineNumber, reason: row.reason, raw: row.rawLine)
                    }
                    read += batch.rowsRead
                    quarantined += batch.quarantined.count
                    if !buffer.isEmpty { try await writer.write(ByteBuffer(bytes: buffer)) }
                }
            }
        }
        return (read, quarantined)
    }

    static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StoreError.io("cannot read \(path)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return Hex.encode(hasher.finalize())
    }
}
