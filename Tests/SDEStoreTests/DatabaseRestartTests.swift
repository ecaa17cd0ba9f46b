import Foundation
import Logging
import PostgresNIO
import SDEAudit
import SDEDevCluster
import SDEStore
import ServiceLifecycle
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// PostgreSQL going away and coming back under a running broker (issue 13: `db start` picked a new port after a crash,
/// so a running `serve` never reconnected, and the first request after PostgreSQL died hung about 68 s).
@Suite struct DatabaseRestartTests {
    /// The suite's logger without postgres-nio's info line for every failed reconnection attempt.
    static let logger: Logger = {
        var logger = TestPostgres.logger
        logger.logLevel = .warning
        return logger
    }()

    /// A loopback port nothing listens on (bound, then released).
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A socket listening on `port` of 127.0.0.1 until closed.
    static func listen(on port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))  // as PostgreSQL does: TIME_WAIT may linger
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        try #require(bound && Glibc.listen(fd, 1) == 0)
        return fd
    }

    /// How long `body` took to throw a `StoreError` (recording an issue if it did not throw one).
    static func timeToFail(_ body: () async throws -> Void) async -> Duration {
        let start = ContinuousClock.now
        await #expect(throws: StoreError.self) { try await body() }
        return ContinuousClock.now - start
    }

    /// A refused connection says so, rather than "refused or lost" for every failure to connect (a connect that timed
    /// out on a loaded machine read the same as a server that is gone).
    @Test func aRefusedConnectionSaysItWasRefused() async throws {
        let refused = DatabaseConfig(host: "127.0.0.1", port: try Self.closedPort(), username: "nobody", password: "x", database: "none")
        await #expect(throws: StoreError.databaseUnavailable("cannot connect to PostgreSQL at \(refused.redacted): connection refused")) {
            _ = try await DatabaseSession.connect(refused, logger: Self.logger)
        }
    }

    @Test func aPooledRequestToAServerThatIsGoneFailsWithinTheLeaseTimeout() async throws {
        let config = DatabaseConfig(host: "127.0.0.1", port: try Self.closedPort(), username: "nobody", password: "x", database: "none")
        let (connections, pool) = DatabaseConnections.pool(config, logger: Self.logger)
        let running = Task { try await pool.run() }
        defer { running.cancel() }
        let waited = await Self.timeToFail {
            _ = try await connections.withDatabase { db in try await db.ping(within: .seconds(1), onTimeout: .databaseUnavailable("")) }
        }
        // 5 s by default; the bound leaves room for a loaded machine's scheduling, and stays under the 30 s statement
        // timeout (the pool on its own kept the request about 67 s).
        #expect(waited < .seconds(25), "waited \(waited)")
        let start = ContinuousClock.now
        #expect(await !connections.answers(within: .seconds(1)))
        #expect(ContinuousClock.now - start < .seconds(3), "a readiness check waits no longer than its own timeout")
    }

    /// A busy pool is not a server that is gone: while every connection is in use, a request waits past the idle lease
    /// timeout for one to come back (up to the statement timeout), rather than failing.
    @Test func aRequestWaitsForABusyPoolLongerThanForAServerThatIsGone() async throws {
        try await TestPostgres.withDatabase { config, _ in
            let (connections, pool) = DatabaseConnections.pool(config, leaseTimeout: .seconds(1), busyLeaseTimeout: .seconds(20), logger: Self.logger)
            let running = Task { try await pool.run() }
            defer { running.cancel() }
            // postgres-nio's pool lends at most 20 connections: hold them all for three seconds.
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Every holder signals once it has its connection, so the pool is busy for certain (on a loaded machine 20
                // connections take longer than any fixed pause to open).
                let (leased, signal) = AsyncStream.makeStream(of: Void.self)
                for _ in 0..<20 {
                    group.addTask {
                        // On a loaded machine the pool can take longer than the 1 s idle lease timeout to open its
                        // first connections: a holder that got none asks again. Any other failure ends the stream,
                        // so that the wait below fails the test instead of hanging the run (it once waited forever
                        // for a twentieth holder whose lease had timed out).
                        let gotOne = Mutex(false), deadline = ContinuousClock.now + .seconds(30)
                        while true {
                            do {
                                try await connections.withDatabase { db in
                                    gotOne.withLock { $0 = true }
                                    signal.yield()
                                    try await db.execute("SELECT pg_sleep(3)")
                                }
                                return
                            } catch {
                                guard !gotOne.withLock({ $0 }), ContinuousClock.now < deadline else {
                                    signal.finish()
                                    throw error
                                }
                            }
                        }
                    }
                }
                var holders = 0
                for await _ in leased {
                    holders += 1
                    if holders == 20 { break }
                }
                try #require(holders == 20, "every holder has its connection")
                let start = ContinuousClock.now
                try await connections.withDatabase { db in try await db.execute("SELECT 1") }
                #expect(ContinuousClock.now - start > .seconds(1), "it did wait past the idle timeout")
                try await group.waitForAll()
            }
        }
    }

    /// One embedded cluster of its own (the suite's shared one must not be stopped under other tests): it keeps its
    /// port across a restart, a pool and an audit trail that were using it serve again within seconds without being
    /// rebuilt, and while it is down no request waits longer than the lease timeout.
    @Test func theEmbeddedClusterKeepsItsPortAndABrokerReconnectsAfterARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sde-restart-\(UUID().uuidString)").path
        let mirror = directory + "-audit"
        let cluster = EmbeddedPostgres(directory: directory)
        defer {
            try? cluster.destroy()
            try? FileManager.default.removeItem(atPath: mirror)
        }
        let config = try await cluster.start(logger: TestPostgres.logger)
        _ = try await DatabaseSession.with(config, logger: TestPostgres.logger) { db in
            try await Migrator(sqlDirectory: TestPostgres.sqlDirectory).migrate(db)
        }
        let (connections, pool) = DatabaseConnections.pool(config, logger: Self.logger)
        let running = Task { try await pool.run() }
        defer { running.cancel() }
        let trail = try await AuditTrail.open(
            database: config, mirrorDirectory: mirror, signingKey: AuditSigningKey(), writeTimeout: .seconds(3), logger: Self.logger)
        func draft() throws -> AuditEventDraft { try AuditEventDraft(actor: "r1", role: "researcher", action: .queryRun, outcome: .allowed) }
        func select() async throws { try await connections.withDatabase { db in try await db.execute("SELECT 1") } }
        do {
            try await select()
            try await trail.record(try draft())

            try cluster.stop()
            #expect(await Self.timeToFail { try await select() } < .seconds(8), "no request waits for a server that is gone")
            #expect(await Self.timeToFail { try await trail.record(try draft()) } < .seconds(8))

            let restarted = try await cluster.start(logger: TestPostgres.logger)
            #expect(restarted.port == config.port, "the cluster keeps its port")
            let back = ContinuousClock.now
            var recovered: Duration?
            while recovered == nil, ContinuousClock.now - back < .seconds(30) {
                if (try? await select()) != nil, (try? await trail.record(try draft())) != nil {
                    recovered = ContinuousClock.now - back
                } else {
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
            #expect(recovered.map { $0 < .seconds(10) } == true, "serving again within seconds of the restart: \(String(describing: recovered))")

            // Only when something else took the port does the cluster move.
            try cluster.stop()
            let squatter = try Self.listen(on: config.port)
            let moved = try await cluster.start(logger: TestPostgres.logger)
            close(squatter)
            #expect(moved.port != config.port)
            #expect(try cluster.connectionConfig().port == moved.port, "and records the new port")
        } catch {
            await trail.close()
            throw error
        }
        await trail.close()
    }
}
