import SDEPolicy
public import SDEAudit

/// The IG team's search of the audit trail: the search is itself audited, with the SHA-256 of what was sent.
public struct AuditReader: Sendable {
    let gate: AccessGate
    let archive: any AuditArchive

    /// A reader through `gate` over `archive`.
    public init(gate: AccessGate, archive: any AuditArchive) {
        self.gate = gate
        self.archive = archive
    }

    /// The most recent `limit` events matching `filter`, oldest first, rendered as `format`.
    public func search(_ caller: Caller, filter: AuditFilter, limit: Int, format: AuditExportFormat) async throws -> (event: AuditEvent, output: [UInt8]) {
        let access = try await gate.authorize(caller, .readAudit, AuditSubject(.auditRead))
        let events = try await gate.auditingFailures(of: access) { try await archive.search(filter, limit: limit) }
        return try await gate.recordOutput(Array(AuditExporter.render(events, format: format).utf8), of: access)
    }
}
