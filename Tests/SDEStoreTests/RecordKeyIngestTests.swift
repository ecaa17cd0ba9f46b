import Foundation
import NIOCore
import PostgresNIO
import SDEDisclosure
import SDEExtracts
import SDEIngest
import SDEStore
import Testing

/// Record keys at ingest: every person, event and spell carries the person's key; a wrong perturbation key is refused
/// before anything is written; rows loaded before record keys existed are filled in, and until then no vetted query runs.
@Suite struct RecordKeyIngestTests {
    /// Every person's stored record key next to the one derived here from the stored pseudonym.
    static func storedAndDerived(_ db: DatabaseSession, _ recordKeys: RecordKeys) async throws -> [(stored: Int64?, derived: Int64)] {
        var result: [(Int64?, Int64)] = []
        for try await (id, key) in try await db.query("SELECT person_id, record_key FROM linked.person").decode((ByteBuffer, Int64?).self) {
            result.append((key, recordKeys.recordKey(personID: Array(id.readableBytesView))))
        }
        return result
    }

    /// Rows whose copy of the record key is missing or differs from their person's.
    static func mismatchedCopies(_ db: DatabaseSession) async throws -> Int {
        try await db.scalar(
            """
            SELECT ((SELECT count(*) FROM linked.care_event e JOIN linked.person p USING (person_id)
                     WHERE e.record_key IS DISTINCT FROM p.record_key)
                  + (SELECT count(*) FROM linked.hospital_spell h JOIN linked.person p USING (person_id)
                     WHERE h.record_key IS DISTINCT FROM p.record_key))::int
            """)
    }

    /// Everything ingest may write, to show that a refused ingest wrote nothing.
    static func footprint(_ db: DatabaseSession) async throws -> [Int] {
        var result: [Int] = []
        for table in ["linked.person", "linked.care_event", "linked.hospital_spell", "broker.ingest_file"] {
            result.append(try await db.scalar(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table)")))
        }
        result.append(try await db.scalar("SELECT version::int FROM broker.data_version"))
        result.append(try await db.scalar("SELECT count(*)::int FROM broker.ingest_key WHERE perturbation_check_value IS NOT NULL"))
        return result
    }

    @Test func everyPersonEventAndSpellCarriesThePersonsDerivedRecordKey() async throws {
        let scratch = try IngestTests.Scratch(persons: 400, seed: 21)
        defer { scratch.remove() }
        try await TestPostgres.withDatabase { _, db in
            _ = try await scratch.ingestor().ingest(directory: scratch.extracts, db: db)
            let keys = try await Self.storedAndDerived(db, RecordKeys(key: scratch.perturbationKey))
            #expect(keys.count > 300)
            #expect(keys.allSatisfy { $0.stored == $0.derived && $0.derived >= 0 })
            #expect(Set(keys.map(\.derived)).count == keys.count)
            #expect(try await Self.mismatchedCopies(db) == 0)
            #expect(try await db.scalar("SELECT count(*)::int FROM linked.hospital_spell") > 0)
            // The key check value is recorded; the key itself is nowhere in the database.
            #expect(
                try await db.scalar("SELECT count(*)::int FROM broker.ingest_key WHERE perturbation_check_value IS NOT NULL") == 1)
            // No row can be written without a record key any more.
            let error = await #expect(throws: StoreError.self) {
                try await db.execute(
                    "INSERT INTO linked.person (person_id, birth_year, sex, la_code) VALUES (\(ByteBuffer(bytes: [UInt8](repeating: 1, count: 32))), 1940, 'F', 'E06000001')"
                )
            }
            #expect(error?.message.contains("23514") == true)
        }
    }

    @Test func aWrongPerturbationKeyIsRefusedBeforeAnythingIsWritten() async throws {
        let scratch = try IngestTests.Scratch(persons: 150, seed: 22)
        defer { scratch.remove() }
        let later = try IngestTests.Scratch(persons: 60, seed: 23)
        defer { later.remove() }
        try await TestPostgres.withDatabase { _, db in
            _ = try await scratch.ingestor().ingest(directory: scratch.extracts, db: db)
            let before = try await Self.footprint(db)
            // The right pseudonymisation key with another perturbation key: the new persons' record keys would not be
            // derived as the stored ones were.
            let error = await #expect(throws: IngestError.self) {
                try await later.ingestor(key: scratch.key, perturbationKey: .generate()).ingest(directory: later.extracts, db: db)
            }
            #expect(error?.message.contains("perturbation key") == true && error?.message.contains("nothing was loaded") == true)
            #expect(try await Self.footprint(db) == before)
            #expect(!FileManager.default.fileExists(atPath: later.quarantine))
            // With the right one, the same files load.
            let report = try await later.ingestor(key: scratch.key, perturbationKey: scratch.perturbationKey).ingest(
                directory: later.extracts, db: db)
            #expect(report.rowsLoaded > 0)
        }
    }

    @Test func thePseudonymisationKeyGivenAsThePerturbationKeyIsRefused() async throws {
        let scratch = try IngestTests.Scratch(persons: 50, seed: 24)
        defer { scratch.remove() }
        try await TestPostgres.withDatabase { _, db in
            let sameKey = try PerturbationKey(fileContents: scratch.key.fileContents)
            let before = try await Self.footprint(db)
            let error = await #expect(throws: IngestError.self) {
                try await scratch.ingestor(perturbationKey: sameKey).ingest(directory: scratch.extracts, db: db)
            }
            #expect(error?.message.contains("holds the pseudonymisation key") == true)
            #expect(try await Self.footprint(db) == before)
            #expect(try await db.scalar("SELECT count(*)::int FROM broker.ingest_key") == 0)
        }
    }

    /// Puts the database in the state migration 0012 leaves data loaded before it in: no record keys, the constraints
    /// not validated, no perturbation key recorded.
    static func forgetRecordKeys(_ db: DatabaseSession) async throws {
        for (table, constraint) in [
            ("linked.person", "person_record_key_present"), ("linked.care_event", "care_event_record_key_present"),
            ("linked.hospital_spell", "hospital_spell_record_key_present"),
        ] {
            try await db.execute(unsafeSQL: "ALTER TABLE \(table) DROP CONSTRAINT \(constraint)")
            try await db.execute(unsafeSQL: "UPDATE \(table) SET record_key = NULL")
            try await db.execute(unsafeSQL: "ALTER TABLE \(table) ADD CONSTRAINT \(constraint) CHECK (record_key IS NOT NULL) NOT VALID")
        }
        try await db.execute("UPDATE broker.ingest_key SET perturbation_check_value = NULL")
    }

    @Test func rowsLoadedBeforeRecordKeysAreRefusedToQueriesUntilIngestFillsThemIn() async throws {
        let scratch = try IngestTests.Scratch(persons: 300, seed: 25)
        defer { scratch.remove() }
        try await TestPostgres.withDatabase { _, db in
            let first = try await scratch.ingestor().ingest(directory: scratch.extracts, db: db)
            #expect(first.recordKeysBackfilled == 0)
            try await Self.forgetRecordKeys(db)
            #expect(try await db.scalar("SELECT broker.record_keys_complete()::int") == 0)

            // Fail closed: no statement runs, and the error says what to do without any value.
            let (compiled, _) = try QueryExecutionTests.compiled("requests-by-la-quarter")
            let error = await #expect(throws: StoreError.self) { try await QueryExecutor().run(compiled, on: db) }
            #expect(error?.code == .recordKeysIncomplete)
            #expect(error?.message.contains("perturbation key") == true)

            // Ingest again (every file already loaded): it fills in the keys and validates the constraints.
            let second = try await scratch.ingestor(quarantine: scratch.root + "/q2.csv").ingest(directory: scratch.extracts, db: db)
            #expect(second.rowsLoaded == 0)
            let persons = try await db.scalar("SELECT count(*)::int FROM linked.person")
            #expect(second.recordKeysBackfilled == persons)
            let keys = try await Self.storedAndDerived(db, RecordKeys(key: scratch.perturbationKey))
            #expect(keys.allSatisfy { $0.stored == $0.derived })
            #expect(try await Self.mismatchedCopies(db) == 0)
            #expect(try await db.scalar("SELECT broker.record_keys_complete()::int") == 1)
            #expect(
                try await db.scalar("SELECT count(*)::int FROM pg_constraint WHERE conname LIKE '%record_key_present' AND convalidated") == 3)
            let table = try await QueryExecutor().run(compiled, on: db)
            #expect(table.rows.last?.key(0).persons != 0)
            // Nothing left to fill in: a third ingest does not touch the keys.
            let third = try await scratch.ingestor(quarantine: scratch.root + "/q3.csv").ingest(directory: scratch.extracts, db: db)
            #expect(third.recordKeysBackfilled == 0)
        }
    }

    @Test func rowsLoadedBeforeRecordKeysGetTheKeyOfTheFirstIngestThatNamesOne() async throws {
        // After the backfill the perturbation key is fixed: another one is refused, before anything is written.
        let scratch = try IngestTests.Scratch(persons: 80, seed: 26)
        defer { scratch.remove() }
        try await TestPostgres.withDatabase { _, db in
            _ = try await scratch.ingestor().ingest(directory: scratch.extracts, db: db)
            try await Self.forgetRecordKeys(db)
            let newKey = PerturbationKey.generate()
            let report = try await scratch.ingestor(perturbationKey: newKey, quarantine: scratch.root + "/q2.csv").ingest(
                directory: scratch.extracts, db: db)
            #expect(report.recordKeysBackfilled > 0)
            #expect(try await Self.storedAndDerived(db, RecordKeys(key: newKey)).allSatisfy { $0.stored == $0.derived })
            let before = try await Self.footprint(db)
            await #expect(throws: IngestError.self) {
                try await scratch.ingestor(quarantine: scratch.root + "/q3.csv").ingest(directory: scratch.extracts, db: db)
            }
            #expect(try await Self.footprint(db) == before)
        }
    }
}
