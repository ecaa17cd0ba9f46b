import PostgresNIO
public import SDEAudit

/// Reading the audit trail back from `broker.audit_event`, in sequence order, for review and export.
public enum AuditEvents {
    /// Calls `body` with every event, oldest first, streaming the rows.
    public static func forEach(in db: Database, _ body: (AuditEvent) throws -> Void) async throws {
        let rows = try await db.query("SELECT line FROM broker.audit_event ORDER BY sequence", "read the audit trail")
        for try await line in rows.decode(String.self) {
            do { try body(try AuditJSONL.decode(line)) } catch let error as AuditError {
                throw StoreError.auditUnavailable("a damaged audit event stops the export (\(error.message)): run `sde-broker audit verify`")
            }
        }
    }
}
