import SDEStore
import PostgresNIO
import SDECommon
import SDEExtracts

/// Gives record keys to the rows loaded before record keys existed (migration 0012), then validates the constraints
/// that refuse any row without one, so that vetted queries may run again (`broker.record_keys_complete()`).
///
/// All in one transaction: persons in batches by pseudonym (their keys derived here, under the perturbation key that
/// never enters the database: only the derived keys are sent, as bound parameters), then each event's and spell's copy
/// from its person. A database whose constraints are already validated has nothing to fill in and is not touched.
struct RecordKeyBackfill {
    let recordKeys: RecordKeys
    var batchSize = 20_000

    /// Fills in every missing record key and validates the constraints; returns the number of persons given a key.
    func run(_ db: DatabaseSession) async throws -> Int {
        var complete = false
        for try await value in try await db.query("SELECT broker.record_keys_complete()", "check the record keys").decode(Bool.self) {
            complete = value
        }
        if complete { return 0 }
        return try await db.transaction("give record keys to rows loaded before them") {
            var filled = 0
            var after = ByteBuffer()
            while true {
                let rows = try await db.query(
                    """
                    SELECT person_id FROM linked.person
                    WHERE record_key IS NULL AND person_id > \(after)
                    ORDER BY person_id LIMIT \(batchSize)
                    """, "read persons without a record key")
                var ids: [ByteBuffer] = []
                for try await id in rows.decode(ByteBuffer.self) { ids.append(id) }
                guard let last = ids.last else { break }
                let keys = ids.map { recordKeys.recordKey(personID: Array($0.readableBytesView)) }
                try await db.execute(
                    """
                    UPDATE linked.person p SET record_key = k.record_key
                    FROM unnest(\(ids.map { Hex.encode($0.readableBytesView) })::text[], \(keys)::bigint[]) AS k (person_hex, record_key)
                    WHERE p.person_id = decode(k.person_hex, 'hex')
                    """, "store record keys")
                filled += ids.count
                after = last
            }
            for table in ["linked.care_event", "linked.hospital_spell"] {
                try await db.execute(
                    unsafeSQL: """
                        UPDATE \(table) t SET record_key = p.record_key FROM linked.person p
                        WHERE p.person_id = t.person_id AND t.record_key IS NULL
                        """, "copy record keys onto \(table)")
            }
            for (table, constraint) in [
                ("linked.person", "person_record_key_present"), ("linked.care_event", "care_event_record_key_present"),
                ("linked.hospital_spell", "hospital_spell_record_key_present"),
            ] {
                try await db.execute(unsafeSQL: "ALTER TABLE \(table) VALIDATE CONSTRAINT \(constraint)", "validate \(constraint)")
            }
            return filled
        }
    }
}
