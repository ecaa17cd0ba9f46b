import Foundation
import Logging
import SDEAudit
import SDEStore
import Synchronization
import Testing

/// Every log line a test's logger receives, message and metadata as one text each.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    /// A logger at `level` writing into this capture.
    func logger(level: Logger.Level) -> Logger {
        var logger = Logger(label: "sde.capture") { _ in Handler(capture: self) }
        logger.logLevel = level
        return logger
    }

    var all: [String] { lines.withLock { $0 } }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let capture: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.append(
                "\(event.level) \(event.message) \(merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        }
    }
}

/// No SQL text in any log line at any level (issue 13: with `SDE_LOG_LEVEL=debug` a failing audit search logged its
/// SQL, through `String(reflecting:)` of a PSQLError): failures log the operation and the SQLSTATE only.
@Suite struct NoSQLInLogsTests {
    /// Text of the broker's statements that must never reach a log.
    static let sqlFragments = ["SELECT", "FROM broker", "line::jsonb", "ORDER BY", "LIMIT $", "unnest(", "INSERT INTO"]

    @Test(arguments: [Logger.Level.debug, .trace])
    func aFailingAuditSearchLogsItsOperationAndSQLStateOnly(_ level: Logger.Level) async throws {
        try await TestPostgres.withDatabase { config, _ in
            let capture = CapturedLog()
            let store = PostgresStore(connections: .direct(config, logger: capture.logger(level: level)))
            // A negative LIMIT makes PostgreSQL refuse the statement (SQLSTATE 2201W).
            await #expect(throws: (any Error).self) { try await store.search(AuditFilter(project: "P1"), limit: -1) }
            let lines = capture.all
            #expect(
                lines.contains { $0.contains("search the audit trail") && $0.contains("SQLSTATE 2201W") },
                "\(lines.filter { !$0.hasPrefix("trace") })")
            for line in lines {
                for fragment in Self.sqlFragments { #expect(!line.contains(fragment), "\(fragment) in: \(line)") }
            }
        }
    }
}
