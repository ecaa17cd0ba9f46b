import PostgresNIO
import SDEIngest
import SDEStore
import Testing

/// Runs `body` on a fresh migrated database (after ingesting `scratch`'s extracts, when given) with an audit trail open
/// on it; the trail is closed and its mirror removed afterwards.
func withAuditedDatabase(
    ingesting scratch: IngestTests.Scratch? = nil, _ body: (DatabaseConfig, DatabaseSession, AuditTrail, AuditTrailTests.Fixture) async throws -> Void
) async throws {
    let fixture = AuditTrailTests.Fixture()
    defer { fixture.remove() }
    try await TestPostgres.withDatabase { config, db in
        if let scratch { _ = try await scratch.ingestor().ingest(directory: scratch.extracts, db: db) }
        let trail = try await fixture.open(config)
        do {
            try await body(config, db, trail, fixture)
        } catch {
            // A trail dropped unclosed would leave its connection open (postgres-nio traps on that): close it first.
            await trail.close()
            throw error
        }
        await trail.close()
    }
}

/// Expects each statement in `changes` to be refused both to the table's owner (by a trigger, SQLSTATE P0001) and to
/// `sde_broker` (by privileges, 42501).
func expectAppendOnly(_ db: DatabaseSession, _ changes: [String]) async {
    for change in changes {
        let byOwner = await #expect(throws: StoreError.self) { try await db.execute(PostgresQuery(unsafeSQL: change)) }
        #expect(byOwner?.message.contains("P0001") == true, "\(change) as owner")
        let byBroker = await #expect(throws: StoreError.self) {
            try await db.transaction("as broker") {
                try await db.execute("SET LOCAL ROLE sde_broker")
                try await db.execute(PostgresQuery(unsafeSQL: change))
            }
        }
        #expect(byBroker?.message.contains("42501") == true, "\(change) as sde_broker")
    }
}
