import PostgresNIO
public import SDEAudit

/// Reading the audit trail back from `broker.audit_event`, in sequence order, for review and export.
public enum AuditEvents {
    /// Calls `body` with every event, oldest first, streaming the rows.
    public static func forEach(in db: DatabaseSession, _ body: (AuditEvent) throws -> Void) async throws {
        let rows = try await db.query("SELECT line FROM broker.audit_event ORDER BY sequence", "read the audit trail")
        for try await line in rows.decode(String.self) {
            do { try body(try AuditJSONL.decode(line)) } catch let error as AuditError {
                throw damaged(error)
            }
        }
    }

    /// The most recent `limit` events that match `filter`, oldest first. The filter runs in the database, over the
    /// events' canonical JSON, so a search does not read the whole trail.
    public static func search(in db: DatabaseSession, filter: AuditFilter, limit: Int) async throws -> [AuditEvent] {
        let rows = try await db.query(
            """
            SELECT line FROM (
                SELECT sequence, line FROM broker.audit_event
                WHERE (\(filter.project)::text IS NULL OR line::jsonb ->> 'project' = \(filter.project))
                  AND (\(filter.actor)::text IS NULL OR line::jsonb ->> 'actor' = \(filter.actor))
                  AND (\(filter.action?.rawValue)::text IS NULL OR line::jsonb ->> 'action' = \(filter.action?.rawValue))
                  AND (\(filter.outcome?.rawValue)::text IS NULL OR line::jsonb ->> 'outcome' = \(filter.outcome?.rawValue))
                  AND (\(filter.since?.description)::text IS NULL OR line::jsonb ->> 'time' >= \(filter.since?.description))
                  AND (\(filter.until?.description)::text IS NULL OR line::jsonb ->> 'time' < \(filter.until?.description))
                ORDER BY sequence DESC LIMIT \(limit)
            ) AS recent ORDER BY sequence
            """,
            "search the audit trail")
        var events: [AuditEvent] = []
        do {
            for try await line in rows.decode(String.self) {
                do { events.append(try AuditJSONL.decode(line)) } catch { throw damaged(error) }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            // Most failures arrive with the rows (permissions, limits, casts): named and logged like any other call's.
            throw db.failure(error, "search the audit trail")
        }
        return events
    }

    private static func damaged(_ error: AuditError) -> StoreError {
        .auditUnavailable("a damaged audit event stops the export (\(error.message)): run `sde-broker audit verify`")
    }
}

extension AuditEvents {
    /// The Merkle tree of the trail in `db`, as a witness needs it: the leaf hash of every event (its canonical line) and
    /// the note of the last signed tree head. Reads the whole trail (32 bytes kept per event).
    public static func tree(in db: DatabaseSession) async throws -> (leafHashes: [AuditDigest], lastCheckpoint: String?) {
        let rows = try await db.query("SELECT line FROM broker.audit_event ORDER BY sequence", "read the audit trail")
        var hashes: [AuditDigest] = []
        var last: String?
        for try await line in rows.decode(String.self) {
            hashes.append(AuditMerkle.leafHash(Array(line.utf8)))
            if line.hasPrefix(AuditTrail.checkpointLinePrefix) {
                do { last = try AuditJSONL.decode(line).checkpoint?.note ?? last } catch { throw damaged(error) }
            }
        }
        return (hashes, last)
    }
}
