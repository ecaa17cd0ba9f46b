import Crypto
import Foundation
import PostgresNIO
import SDECommon
import SDEExtracts
import SDEIngest
import SDEStore
import Testing

@Suite struct IngestTests {
    static let authorities = try! LocalAuthority.load(from: TestPostgres.sqlDirectory + "/local_authorities.csv")

    /// A scratch directory with synthetic extracts, a key and a quarantine path; removed afterwards.
    struct Scratch {
        let root: String
        var extracts: String { root + "/extracts" }
        var quarantine: String { root + "/quarantine.csv" }
        let key: PseudonymisationKey
        let perturbationKey: PerturbationKey
        let summary: SyntheticExtracts.Summary

        init(persons: Int, seed: UInt64, badRowRate: Double = 0) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("sde-ingest-\(UUID().uuidString)").path
            key = PseudonymisationKey.generate()
            perturbationKey = PerturbationKey.generate()
            summary = try SyntheticExtracts.write(
                persons: persons, seed: seed, to: root + "/extracts", badRowRate: badRowRate, localAuthorities: IngestTests.authorities)
        }

        func ingestor(key: PseudonymisationKey? = nil, perturbationKey: PerturbationKey? = nil, quarantine: String? = nil) -> Ingestor {
            Ingestor(
                pseudonymiser: Pseudonymiser(key: key ?? self.key), recordKeys: RecordKeys(key: perturbationKey ?? self.perturbationKey),
                localAuthorityCodes: Set(IngestTests.authorities.map(\.code)),
                quarantinePath: quarantine ?? self.quarantine, batchSize: 500)
        }

        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    @Test func cleanExtractLoadsEveryRowAndLinksHealthAndCare() async throws {
        let scratch = try Scratch(persons: 400, seed: 11)
        defer { scratch.remove() }
        try await TestPostgres.withDatabase { _, db in
            let report = try await scratch.ingestor().ingest(directory: scratch.extracts, db: db)
            #expect(report.rowsRead == scratch.summary.rowsWritten)
            #expect(report.rowsQuarantined == 0)
            #expect(report.rowsLoaded == report.rowsRead)
            #expect(report.quarantinePath == nil)
            #expect(!FileManager.default.fileExists(atPath: scratch.quarantine))
            let events = try await db.scalar("SELECT count(*)::int FROM linked.care_event")
            let spells = try await db.scalar("SELECT count(*)::int FROM linked.hospital_spell")
            #expect(events + spells == report.rowsLoaded)
            #expect(try await db.scalar("SELECT count(*)::int FROM linked.person") <= 400)
            #expect(try await db.scalar("SELECT count(DISTINCT person_id)::int FROM linked.care_event JOIN linked.hospital_spell USING (person_id)") > 0)
            #expect(try await db.scalar("SELECT count(*)::int FROM broker.ingest_file WHERE rows_read = rows_loaded") == report.files.count)
        }
    }

    @Test func noRawNHSNumberReachesTheDatabaseAndPseudonymsAreTheKeyedHMAC() async throws {
        let scratch = try Scratch(persons: 150, seed: 12)
        defer { scratch.remove() }
        let numbers = try nhsNumbers(in: scratch.extracts)
        #expect(numbers.count > 100)
        try await TestPostgres.withDatabase { _, db in
            _ = try await scratch.ingestor().ingest(directory: scratch.extracts, db: db)
            let patterns = numbers.map { "%\($0)%" }
            for table in ["linked.person", "linked.care_event", "linked.hospital_spell", "broker.ingest_file", "broker.ingest_key"] {
                let leaks = try await db.scalar(
                    PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table) t WHERE t::text LIKE ANY($1)", binds: try bindings(patterns)))
                #expect(leaks == 0, "raw NHS numbers in \(table)")
            }
            // The stored pseudonym is HMAC-SHA256(key, NHS number), computed independently here.
            let keyBytes = Hex.decode(String(decoding: scratch.key.fileContents, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))!
            let expected = numbers.map { Hex.encode(HMAC<SHA256>.authenticationCode(for: Array($0.utf8), using: SymmetricKey(data: keyBytes))) }
            let matches = try await db.scalar(
                PostgresQuery(
                    unsafeSQL: "SELECT count(*)::int FROM linked.person WHERE encode(person_id, 'hex') = ANY($1)", binds: try bindings(expected)))
            #expect(matches == (try await db.scalar("SELECT count(*)::int FROM linked.person")))
            #expect(matches == numbers.count)
        }
    }

    @Test func dirtyExtractQuarantinesEveryBadRowWithItsReason() async throws {
        let scratch = try Scratch(persons: 600, seed: 13, badRowRate: 0.05)
        defer { scratch.remove() }
        try await TestPostgres.withDatabase { _, db in
            let report = try await scratch.ingestor().ingest(directory: scratch.extracts, db: db)
            #expect(report.rowsRead == scratch.summary.rowsWritten)
            #expect(report.rowsRead == report.rowsLoaded + report.rowsQuarantined)
            #expect(report.rowsQuarantined == scratch.summary.rowsBroken)
            #expect(report.rowsQuarantined > 0)
            let quarantined = try String(contentsOfFile: try #require(report.quarantinePath), encoding: .isoLatin1)
            let lines = quarantined.split(separator: "\n").dropFirst()
            #expect(lines.count == report.rowsQuarantined)
            for reason in ["nhs_number", "record:", "la_code"] {
                #expect(lines.contains { $0.contains(reason) }, "a quarantined row for \(reason)")
            }
            let events = try await db.scalar("SELECT count(*)::int FROM linked.care_event")
            let spells = try await db.scalar("SELECT count(*)::int FROM linked.hospital_spell")
            #expect(events + spells == report.rowsLoaded)
            let attributes = try FileManager.default.attributesOfItem(atPath: scratch.quarantine)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }
    }

    @Test func reIngestingTheSameFilesLoadsNothingTwice() async throws {
        let scratch = try Scratch(persons: 200, seed: 14, badRowRate: 0.02)
        defer { scratch.remove() }
        try await TestPostgres.withDatabase { _, db in
            let first = try await scratch.ingestor().ingest(directory: scratch.extracts, db: db)
            let events = try await db.scalar("SELECT count(*)::int FROM linked.care_event")
            let second = try await scratch.ingestor(quarantine: scratch.root + "/q2.csv").ingest(directory: scratch.extracts, db: db)
            let allSkipped = second.files.allSatisfy { $0.alreadyIngested }
            #expect(allSkipped)
            #expect(second.rowsLoaded == 0 && second.rowsRead == 0)
            #expect(first.rowsLoaded > 0)
            #expect(try await db.scalar("SELECT count(*)::int FROM linked.care_event") == events)
        }
    }

    @Test func rowsAlreadyLoadedOrRepeatedInAFileAreQuarantinedNotLoadedTwice() async throws {
        let scratch = try Scratch(persons: 120, seed: 15)
        defer { scratch.remove() }
        try await TestPostgres.withDatabase { _, db in
            _ = try await scratch.ingestor().ingest(directory: scratch.extracts, db: db)
            let before = try await db.scalar("SELECT count(*)::int FROM linked.care_event")
            // A resent extract: the same rows plus one repeated line, so different bytes.
            let resent = scratch.root + "/resent"
            try FileManager.default.createDirectory(atPath: resent, withIntermediateDirectories: true)
            let file = try #require(try FileManager.default.contentsOfDirectory(atPath: scratch.extracts).sorted().first { $0.hasPrefix("social_care_") && (try? lines(scratch.extracts + "/" + $0).count) ?? 0 > 2 })
            var content = try lines(scratch.extracts + "/" + file)
            content.append(content[1])
            try (content.joined(separator: "\n") + "\n").write(toFile: resent + "/" + file, atomically: true, encoding: .utf8)
            let report = try await scratch.ingestor(quarantine: scratch.root + "/q2.csv").ingest(directory: resent, db: db)
            #expect(report.rowsRead == content.count - 1)
            #expect(report.rowsLoaded == 0)
            #expect(report.rowsQuarantined == report.rowsRead)
            let quarantined = try String(contentsOfFile: scratch.root + "/q2.csv", encoding: .utf8)
            #expect(quarantined.contains("event_ref: repeated in this file"))
            #expect(quarantined.contains("event_ref: already loaded from an earlier file"))
            #expect(try await db.scalar("SELECT count(*)::int FROM linked.care_event") == before)
        }
    }

    @Test func aDifferentKeyIsRefusedAndChangesNothing() async throws {
        let scratch = try Scratch(persons: 100, seed: 16)
        defer { scratch.remove() }
        try await TestPostgres.withDatabase { _, db in
            _ = try await scratch.ingestor().ingest(directory: scratch.extracts, db: db)
            let before = try await db.scalar("SELECT count(*)::int FROM linked.person")
            let other = try Scratch(persons: 50, seed: 17)
            defer { other.remove() }
            let error = await #expect(throws: IngestError.self) {
                try await other.ingestor(key: PseudonymisationKey.generate()).ingest(directory: other.extracts, db: db)
            }
            #expect(error?.message.contains("not the key") == true)
            #expect(try await db.scalar("SELECT count(*)::int FROM linked.person") == before)
            #expect(!FileManager.default.fileExists(atPath: other.quarantine))
        }
    }

    @Test func anUnreadableDirectoryOrUnknownFileIsRefusedBeforeLoading() async throws {
        let scratch = try Scratch(persons: 60, seed: 18)
        defer { scratch.remove() }
        try await TestPostgres.withDatabase { _, db in
            await #expect(throws: IngestError.self) { try await scratch.ingestor().ingest(directory: scratch.root + "/missing", db: db) }
            try "a,b\n1,2\n".write(toFile: scratch.extracts + "/social_care_E06000001.csv", atomically: true, encoding: .utf8)
            let error = await #expect(throws: IngestError.self) { try await scratch.ingestor().ingest(directory: scratch.extracts, db: db) }
            #expect(error?.message.contains("nothing was loaded") == true)
            #expect(try await db.scalar("SELECT count(*)::int FROM linked.person") == 0)
            #expect(try await db.scalar("SELECT count(*)::int FROM broker.ingest_file") == 0)
        }
    }

    /// Issue 13: a FIFO among the extracts hung `data ingest`; it is refused as `file:1` at once and nothing is loaded.
    @Test func aFIFOAmongTheExtractsIsRefusedAtOnceBeforeLoading() async throws {
        let scratch = try Scratch(persons: 60, seed: 19)
        defer { scratch.remove() }
        let fifo = scratch.extracts + "/social_care_E06000002.csv"
        try FileManager.default.removeItem(atPath: fifo)
        try #require(mkfifo(fifo, 0o600) == 0)
        try await TestPostgres.withDatabase { _, db in
            let start = ContinuousClock.now
            let error = await #expect(throws: IngestError.self) { try await scratch.ingestor().ingest(directory: scratch.extracts, db: db) }
            #expect(ContinuousClock.now - start < .seconds(5))
            #expect(error?.message.contains(fifo + ":1: not a regular file") == true, "\(String(describing: error))")
            #expect(error?.message.contains("nothing was loaded") == true)
            let loaded = try await db.scalar("SELECT count(*)::int FROM broker.ingest_file")
            #expect(loaded == 0)
        }
    }

    @Test func aDeadDatabaseGivesAClearError() async throws {
        let config = DatabaseConfig(host: "127.0.0.1", port: 1, username: "nobody", password: "s3cr3t-pw", database: "none")
        let error = await #expect(throws: StoreError.self) { _ = try await DatabaseSession.connect(config, logger: TestPostgres.logger) }
        #expect(error?.message.contains("cannot connect to PostgreSQL at nobody@127.0.0.1:1/none") == true)
        #expect(error?.message.contains("s3cr3t-pw") == false)
    }

    private func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// The distinct NHS numbers in the extracts' first column.
    private func nhsNumbers(in directory: String) throws -> Set<String> {
        var numbers: Set<String> = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            for line in try lines(directory + "/" + name).dropFirst() {
                numbers.insert(String(line.prefix { $0 != "," }).replacingOccurrences(of: " ", with: ""))
            }
        }
        return numbers
    }

    private func bindings(_ value: [String]) throws -> PostgresBindings {
        var b = PostgresBindings()
        b.append(value)
        return b
    }
}
