public import Logging
public import SDEAudit
public import SDECommon
public import SDEPolicy
import SDEDisclosure
import SDEQuery
public import SDEStore

/// Runs a vetted query for a user, end to end: decide access, compile, execute as the read-only role, protect every
/// cell, commit the audit event, and only then hand the table back. Denials and failures are audited too.
///
/// ```swift
/// let runner = QueryRunner(policy: policy, database: config, trail: trail, logger: logger)
/// switch try await runner.run(user: "r-priya-shah", project: "P2025-002", query: "requests-by-la-quarter",
///                             parameters: ["from": "2023Q2", "to": "2024Q1"], today: today) { ... }
/// ```
public struct QueryRunner: Sendable {
    /// What a run gave the caller.
    public enum Outcome: Sendable {
        /// The protected table, released after its audit event committed, with its canonical JSON (without the audit
        /// member), the bytes the event's output digest covers.
        case released(ProtectedTableDocument, json: [UInt8], event: AuditEvent)
        /// Access was refused; the refusal was audited.
        case denied(AccessDenial, event: AuditEvent)
    }

    /// A failure after access was granted (database, timeout, disclosure control); it was audited, no data left.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// A stable code such as `query_timeout` or `disclosure_audit_failed`.
        public let code: String
        /// What went wrong, without SQL text or values.
        public let message: String
        /// The audit event of the failure.
        public let event: AuditEvent
        public var description: String { "\(code): \(message)" }
    }

    let policy: PolicySet
    let connections: DatabaseConnections
    let trail: AuditTrail
    let protection: LedgerProtection
    let logger: Logger

    /// A runner over a loaded policy set, the database, and the audit trail every outcome goes through; with `cache`,
    /// repeated queries on unchanged data reuse their statistics (see ``StatisticsCache``).
    public init(
        policy: PolicySet, connections: DatabaseConnections, trail: AuditTrail, executor: QueryExecutor = QueryExecutor(),
        cache: StatisticsCache? = nil, logger: Logger
    ) {
        self.policy = policy
        self.connections = connections
        self.trail = trail
        self.protection = LedgerProtection(executor: executor, cache: cache)
        self.logger = logger
    }

    /// A runner that opens one connection to `database` per run.
    public init(policy: PolicySet, database: DatabaseConfig, trail: AuditTrail, executor: QueryExecutor = QueryExecutor(), logger: Logger) {
        self.init(policy: policy, connections: .direct(database, logger: logger), trail: trail, executor: executor, logger: logger)
    }

    /// Runs `query` of `project` for `user` with `parameters` as typed by the user, on `today`.
    /// - Throws: ``Failure`` after an audited failure; `StoreError.auditUnavailable` when even that could not be recorded.
    public func run(user: String, project: String, query: String, parameters: [String: String], today: CivilDate) async throws -> Outcome {
        let decision = policy.decide(user: user, action: .runQuery(project: project, query: query, parameters: parameters), now: today)
        let grant: AccessGrant
        switch decision {
        case .deny(let denial):
            // The typed parameters are not recorded: they failed the policy's checks and could hold anything.
            let event = try await trail.record(
                try Self.draft(
                    user: user, role: nil, project: project, query: query, parameters: [:], policyDigest: policy.digest, outcome: .denied,
                    reason: denial.reason.rawValue))
            return .denied(denial, event: event)
        case .allow(let allowed):
            grant = allowed
        }
        guard let run = grant.run else { preconditionFailure("a runQuery grant always carries the query to run") }
        let checked = run.parameters.values
        return try await auditingFailures {
            // The released cells go into the differencing ledger before the audit event: if the ledger cannot be
            // written, nothing is released (an audit failure afterwards leaves cells in the ledger that were never
            // released, which only makes later answers more cautious).
            let table = try await connections.withDatabase { db in try await protection.protectedTable(run, source: .project(project), on: db) }
            let document = ProtectedTableDocument(query: query, project: project, parameters: checked, profile: run.profile, table: table)
            let (event, json) = try await trail.release(document.json().canonicalBytes) { digest in
                try Self.draft(
                    user: user, role: "researcher", project: project, query: query, parameters: checked, policyDigest: grant.policyDigest,
                    outcome: .allowed, cells: document.cellCounts, outputDigest: digest)
            }
            return .released(document, json: json, event: event)
        } failure: { code in
            try Self.draft(
                user: user, role: "researcher", project: project, query: query, parameters: checked, policyDigest: grant.policyDigest, outcome: .error,
                reason: code)
        }
    }

    /// Runs `body`; any failure but an unavailable audit trail is recorded with the draft `failure` makes of its code,
    /// and thrown as a ``Failure`` carrying that event.
    func auditingFailures<Result>(
        _ body: () async throws -> Result, failure: (String) throws -> AuditEventDraft
    ) async throws -> Result {
        do {
            return try await body()
        } catch let error as StoreError where error.code == .auditUnavailable {
            throw error
        } catch {
            let (code, message) = Self.describe(error)
            throw Failure(code: code, message: message, event: try await trail.record(try failure(code)))
        }
    }

    /// An audit draft of a query run (`query.run`, or `query.denied` for a denial).
    static func draft(
        user: String, role: String?, project: String, query: String, parameters: [String: String], policyDigest: String, outcome: AuditOutcome,
        reason: String? = nil, cells: AuditCellCounts = .none, outputDigest: AuditDigest? = nil
    ) throws -> AuditEventDraft {
        try serviceDraft(
            user: user, role: role, project: project, action: outcome == .denied ? .queryDenied : .queryRun, target: query, parameters: parameters,
            policyDigest: policyDigest, outcome: outcome, reason: reason, cells: cells, outputDigest: outputDigest)
    }

    /// An audit draft for any service action; names the user typed that are not valid identifiers (user, project,
    /// target) are recorded as unknown rather than verbatim.
    static func serviceDraft(
        user: String, role: String?, project: String?, action: AuditAction, target: String, parameters: [String: String], policyDigest: String,
        outcome: AuditOutcome, reason: String? = nil, cells: AuditCellCounts = .none, outputDigest: AuditDigest? = nil
    ) throws -> AuditEventDraft {
        try AuditEventDraft(
            actor: AuditEventDraft.identifier(user) ?? AuditEventDraft.anonymousActor, role: role, project: project.flatMap(AuditEventDraft.identifier),
            action: action, target: AuditEventDraft.identifier(target),
            parameters: parameters, policyDigest: AuditDigest(hex: policyDigest), outcome: outcome, reason: reason, cells: cells,
            outputDigest: outputDigest)
    }

    static func describe(_ error: any Error) -> (code: String, message: String) {
        switch error {
        case let error as StoreError: (error.code.description, error.message)
        case let error as DisclosureError: ("disclosure_" + error.code.description, error.message)
        case let error as QueryError: ("query_" + error.code.description, error.message)
        default: ("internal_error", "the query could not be run")
        }
    }
}
