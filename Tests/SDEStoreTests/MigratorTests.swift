import Foundation
import NIOCore
import PostgresNIO
import SDEStore
import Testing

@Suite struct MigratorTests {
    @Test func migrateBuildsTheSchemaAndReRunningIsANoOp() async throws {
        try await TestPostgres.withDatabase(migrated: false) { _, db in
            let migrator = Migrator(sqlDirectory: TestPostgres.sqlDirectory)
            let first = try await migrator.migrate(db)
            #expect(first.applied.first == "migrations/0001_schemas_and_roles.sql")
            #expect(first.applied.contains("local_authorities.csv"))
            #expect(first.applied.contains("views/request_waits.sql"))
            #expect(try await migrator.pending(db).isEmpty)

            let second = try await migrator.migrate(db)
            #expect(second.applied.isEmpty)
            #expect(second.unchanged == first.applied.count)

            #expect(try await db.scalar("SELECT count(*)::int FROM linked.local_authority") == 153)
            #expect(try await db.scalar("SELECT count(DISTINCT region_code)::int FROM linked.local_authority") == 9)
        }
    }

    @Test func readerRoleSeesCuratedViewsButNoBaseTable() async throws {
        try await TestPostgres.withDatabase { _, db in
            try await db.transaction("reader") {
                try await db.execute("SET LOCAL ROLE sde_reader")
                #expect(try await db.scalar("SELECT count(*)::int FROM datasets.care_events") == 0)
                #expect(try await db.scalar("SELECT count(*)::int FROM datasets.request_waits") == 0)
                #expect(try await db.scalar("SELECT count(*)::int FROM datasets.hospital_discharges") == 0)
            }
            for table in ["linked.person", "linked.care_event", "linked.hospital_spell", "linked.local_authority", "broker.ingest_key"] {
                let error = await #expect(throws: StoreError.self) {
                    try await db.transaction("reader") {
                        try await db.execute("SET LOCAL ROLE sde_reader")
                        try await db.execute(unsafeSQL: "SELECT count(*) FROM \(table)")
                    }
                }
                #expect(error?.message.contains("42501") == true, "\(table) must be closed to sde_reader")
            }
        }
    }

    @Test func editingAnAppliedMigrationIsRefused() async throws {
        let sql = try copyOfSqlDirectory()
        defer { try? FileManager.default.removeItem(atPath: sql) }
        try await TestPostgres.withDatabase(migrated: false) { _, db in
            try await Migrator(sqlDirectory: sql).migrate(db)
            let path = sql + "/migrations/0003_ingest_bookkeeping.sql"
            try ("-- edited\n" + String(contentsOfFile: path, encoding: .utf8)).write(toFile: path, atomically: true, encoding: .utf8)
            let error = await #expect(throws: StoreError.self) { try await Migrator(sqlDirectory: sql).migrate(db) }
            #expect(error?.message.contains("0003_ingest_bookkeeping.sql") == true)
        }
    }

    @Test func aFailingMigrationLeavesTheDatabaseAsItWas() async throws {
        let sql = try copyOfSqlDirectory()
        defer { try? FileManager.default.removeItem(atPath: sql) }
        try "CREATE TABLE linked.half_done (x int);\nSELECT no_such_function();\n"
            .write(toFile: sql + "/migrations/0099_broken.sql", atomically: true, encoding: .utf8)
        try await TestPostgres.withDatabase(migrated: false) { _, db in
            await #expect(throws: StoreError.self) { try await Migrator(sqlDirectory: sql).migrate(db) }
            let leftovers = try await db.scalar(
                "SELECT (to_regclass('linked.person') IS NOT NULL)::int + (to_regclass('public.sde_schema_migration') IS NOT NULL)::int")
            #expect(leftovers == 0)
        }
    }

    @Test func checkConstraintsRejectImpossibleRecords() async throws {
        try await TestPostgres.withDatabase { _, db in
            let person = ByteBuffer(bytes: [UInt8](repeating: 7, count: 32))
            try await db.execute(
                "INSERT INTO linked.person (person_id, record_key, birth_year, sex, la_code) VALUES (\(person), 7, 1940, 'F', 'E06000001')")
            let bad: [(values: String, sqlState: String)] = [
                // a service without hours or cost
                ("'E06000001', 'r1', 'service', '2023-01-01', 'ongoing', 'home_care', 'physical_support', NULL, NULL", "23514"),
                // an outcome that does not belong to the event type
                ("'E06000001', 'r2', 'request', '2023-01-01', 'ongoing', NULL, 'physical_support', NULL, NULL", "23514"),
                // hours and cost on a request
                ("'E06000001', 'r3', 'request', '2023-01-01', 'declined', NULL, 'physical_support', 5, 20", "23514"),
                // a date outside the plausible range
                ("'E06000001', 'r4', 'request', '1999-12-31', 'declined', NULL, 'physical_support', NULL, NULL", "23514"),
                // an unknown local authority
                ("'E06999999', 'r5', 'request', '2023-01-01', 'declined', NULL, 'physical_support', NULL, NULL", "23503"),
            ]
            let good = "'E06000001', 'r6', 'service', '2023-01-01', 'ongoing', 'home_care', 'physical_support', 10, 25.5"
            for (values, sqlState) in bad + [(good, "")] {
                let insert = PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO linked.care_event (person_id, record_key, la_code, event_ref, event_type, event_start, outcome,
                            service_type, support_reason, planned_hours, unit_cost)
                        VALUES ($1, 7, \(values))
                        """, binds: binds(person))
                if sqlState.isEmpty {
                    try await db.execute(insert)
                } else {
                    let error = await #expect(throws: StoreError.self) { try await db.execute(insert) }
                    #expect(error?.message.contains(sqlState) == true, "\(values)")
                }
            }
        }
    }

    private func binds(_ person: ByteBuffer) -> PostgresBindings {
        var b = PostgresBindings()
        b.append(person)
        return b
    }

    private func copyOfSqlDirectory() throws -> String {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("sde-sql-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: TestPostgres.sqlDirectory, toPath: target)
        return target
    }
}

extension DatabaseSession {
    /// The single integer a test query returns.
    func scalar(_ query: PostgresQuery) async throws -> Int {
        var value: Int?
        for try await v in try await self.query(query).decode(Int.self) { value = v }
        return try #require(value)
    }
}
