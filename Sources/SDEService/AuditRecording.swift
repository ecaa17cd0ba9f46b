public import SDEAudit

/// The audit trail as the services use it: every outcome is recorded, and every output is handed back only after its
/// event committed.
public protocol AuditRecording: Sendable {
    /// Records `draft` and returns the committed event.
    /// - Throws: an error whose ``ServiceFailure/serviceCode`` is ``ServiceError/Code/auditUnavailable`` when nothing
    ///   could be recorded.
    @discardableResult
    func record(_ draft: AuditEventDraft) async throws -> AuditEvent
    /// Records the event of `output` (its SHA-256 goes to `makeDraft`) and only after the commit hands `output` back.
    func recordOutput(_ output: [UInt8], _ makeDraft: (AuditDigest) throws -> AuditEventDraft) async throws -> (event: AuditEvent, output: [UInt8])
    /// Whether the trail can be written now (a readiness check; writes nothing).
    func probe() async -> Bool
    /// Writes a signed checkpoint now (an `audit.checkpoint` event whose signed tree head covers every event before
    /// it) and returns its event: what a regulator release carries, so that a copy of the trail's head leaves with it.
    @discardableResult
    func checkpoint() async throws -> AuditEvent
}

extension AuditRecording {
    /// The default ``recordOutput(_:_:)``: digest, record, then hand the bytes back.
    public func recordOutput(_ output: [UInt8], _ makeDraft: (AuditDigest) throws -> AuditEventDraft) async throws -> (event: AuditEvent, output: [UInt8]) {
        let event = try await record(try makeDraft(AuditDigest.sha256(of: output)))
        return (event, output)
    }
}

/// Searching the audit trail (IG officers).
public protocol AuditArchive: Sendable {
    /// The most recent `limit` events matching `filter`, oldest first.
    func search(_ filter: AuditFilter, limit: Int) async throws -> [AuditEvent]
}
