public import SDEStore
import PostgresNIO

/// A short description of what `linked` holds, for the operator: counts only, never a record.
public enum LoadedData {
    /// Lines such as `persons: 20000`, `care events: request 31000, assessment ...`.
    public static func describe(_ db: DatabaseSession) async throws -> [String] {
        var lines: [String] = []
        let totals = try await db.query(
            """
            SELECT (SELECT count(*) FROM linked.person)::bigint,
                   (SELECT count(*) FROM linked.care_event)::bigint,
                   (SELECT count(*) FROM linked.hospital_spell)::bigint,
                   (SELECT count(DISTINCT c.person_id) FROM linked.care_event c JOIN linked.hospital_spell h USING (person_id))::bigint
            """, "count loaded records")
        for try await (persons, events, spells, linked) in totals.decode((Int, Int, Int, Int).self) {
            lines.append("persons (pseudonymised): \(persons)")
            lines.append("social care events: \(events); hospital spells: \(spells)")
            lines.append("people linked across health and social care (same pseudonym in both): \(linked)")
        }
        let byType = try await db.query(
            "SELECT event_type, count(*)::bigint FROM linked.care_event GROUP BY event_type ORDER BY min(event_id)", "count events by type")
        var parts: [String] = []
        for try await (type, count) in byType.decode((String, Int).self) { parts.append("\(type) \(count)") }
        lines.append("events by type: " + parts.joined(separator: ", "))
        return lines
    }
}
