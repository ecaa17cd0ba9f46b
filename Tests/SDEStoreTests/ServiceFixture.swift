import PostgresNIO
import SDECommon
import SDEIngest
import SDEPolicy
import SDEService
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

/// Runs `body` with the broker's services over a fresh migrated database (after ingesting `scratch`'s extracts, when
/// given): `PostgresStore` behind every port, one connection per call, an open audit trail, the example policy set (or
/// `policy`) and ``QueryRunnerTests/today`` as the date, and a statistics cache when `cache` is given.
///
/// Callers are made with ``caller(_:)``: the services take a caller as the token check established it, which the HTTP
/// tests exercise.
func withBroker(
    ingesting scratch: IngestTests.Scratch? = nil, policy: PolicySet? = nil, cache: StatisticsCache? = nil,
    _ body: (Broker, DatabaseSession, AuditTrailTests.Fixture) async throws -> Void
) async throws {
    let policies = PolicyRegistry(.valid(try policy ?? QueryExecutionTests.policy()))
    try await withAuditedDatabase(ingesting: scratch) { config, db, trail, fixture in
        let store = PostgresStore(connections: .direct(config, logger: TestPostgres.logger))
        let gate = AccessGate(policies: policies, trail: trail, today: { QueryRunnerTests.today })
        try await body(Broker(gate: gate, store: store, releases: store, tokens: store, auditArchive: store, cache: cache), db, fixture)
    }
}

/// `user` as a service sees them once their token was checked (the token id is never looked at again).
func caller(_ user: String) -> Caller {
    Caller(user: user, tokenID: "0123456789abcdef")
}

/// Expects `body` to throw a ``ServiceError`` with `code`, and returns it (`nil`, and a recorded issue, otherwise).
@discardableResult
func expectServiceError<Result>(
    _ code: ServiceError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Result
) async -> ServiceError? {
    let error = await #expect(throws: ServiceError.self, sourceLocation: sourceLocation) { _ = try await body() }
    #expect(error?.code == code, "\(error.map(String.init(describing:)) ?? "no error")", sourceLocation: sourceLocation)
    return error
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
