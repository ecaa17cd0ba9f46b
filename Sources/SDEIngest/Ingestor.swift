public import SDEStore
import Foundation
import Logging
import NIOCore
import PostgresNIO
public import SDECommon
public import SDEExtracts

/// Loads raw extracts into `linked`: every row validated and pseudonymised on the way in, or quarantined with a reason.
///
/// For each file: its name and SHA-256 are looked up in `broker.ingest_file` (a file already loaded is skipped, so
/// re-ingesting loads nothing twice); its rows stream through the validator into a temporary staging table with
/// COPY, in batches; then one transaction merges persons, events or spells into `linked` and records the file.
/// Rows that collide with rows already loaded (same local authority and event reference, or same provider and
/// spell reference) are quarantined too, so for every file `rows read = rows loaded + rows quarantined`.
///
/// Every person gets a secret record key (``RecordKeys``, from the pseudonym under the perturbation key), stored with
/// the person and copied onto each of their events and spells, for the cell-key method. Rows loaded before record keys
/// existed (migration 0012) get theirs first, in one transaction that then validates the constraints refusing any row
/// without a key; until then vetted queries refuse to run.
///
/// Before anything is written, ingest checks the directory, every file's header, the database, and that both keys are
/// the ones earlier loads used (by their check values): a wrong pseudonymisation key would make pseudonyms that never
/// link, a wrong perturbation key record keys that do not match those stored.
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
        /// Persons loaded before record keys existed that this ingest gave theirs to.
        public var recordKeysBackfilled = 0
        public var rowsRead: Int { files.reduce(0) { $0 + $1.rowsRead } }
        public var rowsLoaded: Int { files.reduce(0) { $0 + $1.rowsLoaded } }
        public var rowsQuarantined: Int { files.reduce(0) { $0 + $1.rowsQuarantined } }
    }

    let pseudonymiser: Pseudonymiser
    let recordKeys: RecordKeys
    let localAuthorityCodes: Set<String>
    let quarantinePath: String
    let batchSize: Int

    /// An ingestor with the pseudonymisation key's pseudonymiser, the perturbation key's record keys, the valid LA codes,
    /// and where to write quarantined rows (CSV, mode 0600: it holds raw rows, NHS numbers included, for the data
    /// engineer to correct and resend).
    public init(
        pseudonymiser: Pseudonymiser, recordKeys: RecordKeys, localAuthorityCodes: Set<String>, quarantinePath: String, batchSize: Int = 20_000
    ) {
        self.pseudonymiser = pseudonymiser
        self.recordKeys = recordKeys
        self.localAuthorityCodes = localAuthorityCodes
        self.quarantinePath = quarantinePath
        self.batchSize = batchSize
    }

    /// Ingests every extract in `directory`, telling `progress` of every batch of rows read (and of the share of the
    /// files' bytes read).
    public func ingest(directory: String, db: DatabaseSession, progress: ProgressReporter? = nil) async throws -> Report {
        let paths = try extractFiles(in: directory)
        let sizes = paths.map { (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0 }
        let bytes = ByteProgress(total: sizes.reduce(0, +), reporter: progress)
        try await checkKeys(db)
        var report = Report()
        report.recordKeysBackfilled = try await RecordKeyBackfill(recordKeys: recordKeys).run(db)
        let quarantine = try QuarantineFile(path: quarantinePath)
        for (path, size) in zip(paths, sizes) {
            report.files.append(try await ingestFile(path, db: db, quarantine: quarantine, progress: bytes))
            bytes.fileDone(size: size)
        }
        report.quarantinePath = try quarantine.finish()
        if report.files.contains(where: { !$0.alreadyIngested }) || report.recordKeysBackfilled > 0 {
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
            guard !paths.isEmpty else { throw IngestError.refused("no extracts (social_care_*.csv, hospital_spells.csv) in \(directory)") }
            for path in paths {
                _ = try ExtractReader(path: path, laCodes: localAuthorityCodes, pseudonymiser: pseudonymiser)
            }
        } catch let error as ExtractError {
            throw IngestError.refused("\(error.message); nothing was loaded")
        }
        return paths
    }

    /// Refuses keys other than the ones earlier loads used, or one key given for both purposes; records the check values
    /// on first use. Nothing is written unless both keys are accepted.
    private func checkKeys(_ db: DatabaseSession) async throws {
        guard recordKeys.pseudonymisationCheckValue != pseudonymiser.keyCheckValue else {
            throw IngestError.refused(
                "the perturbation key file holds the pseudonymisation key: make a separate key with `data keygen`; nothing was loaded")
        }
        try await db.transaction("check the keys") {
            let rows = try await db.query(
                "SELECT check_value, perturbation_check_value FROM broker.ingest_key FOR UPDATE", "read the key check values")
            var stored: (pseudonymisation: String, perturbation: String?)?
            for try await (pseudonymisation, perturbation) in rows.decode((String, String?).self) { stored = (pseudonymisation, perturbation) }
            if let stored, stored.pseudonymisation != pseudonymiser.keyCheckValue {
                throw IngestError.refused(
                    "the key file is not the key earlier extracts were pseudonymised with: pseudonyms would not link; nothing was loaded")
            }
            if let stored, let perturbation = stored.perturbation, perturbation != recordKeys.keyCheckValue {
                throw IngestError.refused(
                    "the perturbation key file is not the key earlier loads derived record keys with: record keys would not match; nothing was loaded"
                )
            }
            if stored?.perturbation == nil {
                try await db.execute(
                    """
                    INSERT INTO broker.ingest_key AS k (check_value, perturbation_check_value)
                    VALUES (\(pseudonymiser.keyCheckValue), \(recordKeys.keyCheckValue))
                    ON CONFLICT (singleton) DO UPDATE SET perturbation_check_value = EXCLUDED.perturbation_check_value
                    WHERE k.perturbation_check_value IS NULL
                    """,
                    "record the key check values")
            }
        }
    }

    private func ingestFile(_ path: String, db: DatabaseSession, quarantine: QuarantineFile, progress: ByteProgress) async throws -> FileReport {
        let name = (path as NSString).lastPathComponent
        var report = FileReport(file: name)
        let digest: String
        do { digest = try ExtractReader.sha256(ofFile: path) } catch { throw IngestError.refused("\(error.message); nothing more was loaded") }
        let seen = try await db.query("SELECT 1 FROM broker.ingest_file WHERE file_name = \(name) AND file_sha256 = \(digest)", "look up \(name)")
        for try await _ in seen { report.alreadyIngested = true }
        if report.alreadyIngested { return report }

        let reader = try ExtractReader(path: path, laCodes: localAuthorityCodes, pseudonymiser: pseudonymiser)
        let target = StagingTable(kind: reader.kind)
        let pending = try quarantine.startFile()
        try await db.transaction("ingest of \(name)") {
            try await db.execute(unsafeSQL: Self.fileTransactionSQL, "begin the ingest of \(name)")
            try await db.execute(unsafeSQL: target.createSQL, "create staging for \(name)")
            let batchSize = self.batchSize
            let counts = try await Self.copy(
                reader, into: target, db: db, batchSize: batchSize, recordKeys: self.recordKeys, quarantine: pending, progress: progress)
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

    /// Run first in each file's transaction: one ingest at a time (the merge looks keys up, then inserts without
    /// `ON CONFLICT`), and a commit that does not wait for its WAL flush. A crash of PostgreSQL can lose only whole files
    /// (each with its `broker.ingest_file` row, so the next ingest loads them again); the `data.ingested` audit event,
    /// committed synchronously after the last file, flushes every file's commit before ingest reports anything.
    static let fileTransactionSQL =
        "SELECT pg_advisory_xact_lock(hashtext('sde.ingest')), set_config('synchronous_commit', 'off', true)"

    /// Streams the file's valid rows into the staging table with COPY; invalid rows go to quarantine.
    private static func copy(
        _ reader: ExtractReader, into target: StagingTable, db: DatabaseSession, batchSize: Int, recordKeys: RecordKeys,
        quarantine: QuarantineFile.Pending, progress: ByteProgress
    ) async throws -> (read: Int, quarantined: Int) {
        var read = 0
        var quarantined = 0
        try await db.connection.copyFrom(table: target.name, columns: target.columns, logger: db.logger.postgresDriver) { writer in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(batchSize * 160)
            do {
                while let batch = try reader.next(batchOf: batchSize) {
                    buffer.removeAll(keepingCapacity: true)
                    for record in batch.care { CopyText.append(record, recordKey: recordKeys.recordKey(personID: record.personID), to: &buffer) }
                    for record in batch.hospital {
                        CopyText.append(record, recordKey: recordKeys.recordKey(personID: record.personID), to: &buffer)
                    }
                    for row in batch.quarantined {
                        try quarantine.write(file: row.fileName, line: row.lineNumber, reason: row.reason, raw: row.rawLine)
                    }
                    read += batch.rowsRead
                    progress.rows(batch.rowsRead, fileBytesRead: reader.bytesRead)
                    quarantined += batch.quarantined.count
                    if !buffer.isEmpty { try await writer.write(ByteBuffer(bytes: buffer)) }
                }
            }
        }
        return (read, quarantined)
    }
}

/// An ingest's progress: rows counted, and the share done by the bytes of the files read so far.
private final class ByteProgress {
    private let total: Int
    private let reporter: ProgressReporter?
    private var finishedFiles = 0

    init(total: Int, reporter: ProgressReporter?) {
        self.total = total
        self.reporter = reporter
    }

    /// `count` more rows, `fileBytesRead` into the current file.
    func rows(_ count: Int, fileBytesRead: Int) {
        reporter?.advance(by: count, fraction: total > 0 ? Double(finishedFiles + fileBytesRead) / Double(total) : nil)
    }

    /// The current file, of `size` bytes, is done (or was skipped).
    func fileDone(size: Int) { finishedFiles += size }
}
