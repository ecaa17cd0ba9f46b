public import SDEAudit
import SDECommon
import SDEPolicy

/// Runs a vetted query for a researcher, end to end: through the gate, compile, execute as the read-only role, protect
/// every cell, commit the audit event, and only then hand the table back. Refusals and failures are audited too and
/// thrown as ``ServiceError``.
///
/// ```swift
/// let table = try await runner.run(caller, project: "P2025-002", query: "requests-by-la-quarter",
///                                  parameters: ["from": "2023Q2", "to": "2024Q1"])
/// print(table.document.text)
/// ```
public struct QueryRunner: Sendable {
    let gate: AccessGate
    let pipeline: ProtectedQueryPipeline

    /// A runner through `gate` over `pipeline`.
    public init(gate: AccessGate, pipeline: ProtectedQueryPipeline) {
        self.gate = gate
        self.pipeline = pipeline
    }

    /// Runs `query` of `project` for `caller` with `parameters` as the caller typed them.
    /// - Throws: ``ServiceError`` (refused or failed, audited; `audit_unavailable` when even that could not be recorded).
    public func run(_ caller: Caller, project: String, query: String, parameters: [String: String]) async throws -> ReleasedTable {
        let access = try await gate.authorize(
            caller, .runQuery(project: project, query: query, parameters: parameters),
            AuditSubject(.queryRun, refusedAs: .queryDenied, project: project, target: query))
        guard let run = access.grant.run else { preconditionFailure("a runQuery grant always carries the query to run") }
        let checked = run.parameters.values
        return try await gate.auditingFailures(of: access, parameters: checked) {
            // The released cells go into the differencing ledger before the audit event: if the ledger cannot be
            // written, nothing is released (an audit failure afterwards leaves cells in the ledger that were never
            // released, which only makes later answers more cautious).
            let table = try await pipeline.store.withSession { db in try await pipeline.protectedTable(run, source: .project(project), in: db) }
            let document = ProtectedTableDocument(query: query, project: project, parameters: checked, profile: run.profile, table: table)
            let (event, json) = try await gate.recordOutput(document.json().canonicalBytes, of: access, parameters: checked, cells: document.cellCounts)
            return ReleasedTable(document: document, json: json, event: event)
        }
    }
}

/// A protected table released to its caller after its audit event committed.
public struct ReleasedTable: Sendable {
    /// The document.
    public let document: ProtectedTableDocument
    /// Its canonical JSON without the audit member: the bytes the event's output digest covers.
    public let json: [UInt8]
    /// The audit event that released it.
    public let event: AuditEvent

    /// The JSON document with its audit reference, as researchers receive it.
    public var jsonWithAudit: [UInt8] { ProtectedTableDocument.canonicalBytes(json, audit: event.head) }
}
