import SDEStore
import SDEExtracts

/// The temporary table one extract file is copied into, and the statements that merge it into `linked`.
struct StagingTable {
    let name: String
    let columns: [String]
    let createSQL: String
    /// Inserts the file's persons with their record keys (first row per person wins; a later file may fill in ethnicity
    /// or a date of death). A person loaded before keeps the record key it has: the same perturbation key derives the same.
    let personSQL: String
    /// Inserts events or spells not loaded before, and returns `(line, reason)` for every row it did not load.
    let mergeSQL: String

    init(kind: ExtractKind) {
        switch kind {
        case .socialCare:
            name = "staging_care"
            columns = [
                "line_no", "person_id", "record_key", "birth_year", "sex", "ethnicity", "death_date", "la_code", "event_ref", "event_type",
                "event_start", "event_end", "outcome", "service_type", "support_reason", "planned_hours", "unit_cost",
            ]
            createSQL = """
                CREATE TEMP TABLE staging_care (
                    line_no int, person_id bytea, record_key bigint, birth_year smallint, sex char(1), ethnicity text, death_date date, la_code char(9),
                    event_ref text, event_type text, event_start date, event_end date, outcome text, service_type text,
                    support_reason text, planned_hours numeric, unit_cost numeric)
                """
            personSQL = Self.personSQL(staging: name, ethnicity: "ethnicity", deathDate: "death_date")
            mergeSQL = Self.mergeSQL(
                staging: name, target: "linked.care_event", key: ["la_code", "event_ref"],
                columns: [
                    "person_id", "record_key", "la_code", "event_ref", "event_type", "event_start", "event_end", "outcome", "service_type",
                    "support_reason", "planned_hours", "unit_cost",
                ],
                what: "event_ref")
        case .hospital:
            name = "staging_hospital"
            columns = [
                "line_no", "person_id", "record_key", "birth_year", "sex", "la_code", "provider_code", "spell_ref", "admission_date",
                "discharge_date", "admission_method", "discharge_destination", "diagnosis_chapter",
            ]
            createSQL = """
                CREATE TEMP TABLE staging_hospital (
                    line_no int, person_id bytea, record_key bigint, birth_year smallint, sex char(1), la_code char(9), provider_code text, spell_ref text,
                    admission_date date, discharge_date date, admission_method text, discharge_destination text, diagnosis_chapter text)
                """
            personSQL = Self.personSQL(staging: name, ethnicity: "NULL::text", deathDate: "NULL::date")
            mergeSQL = Self.mergeSQL(
                staging: name, target: "linked.hospital_spell", key: ["provider_code", "spell_ref"],
                columns: [
                    "person_id", "record_key", "provider_code", "spell_ref", "admission_date", "discharge_date", "admission_method",
                    "discharge_destination", "diagnosis_chapter",
                ],
                what: "spell_ref")
        }
    }

    private static func personSQL(staging: String, ethnicity: String, deathDate: String) -> String {
        """
        INSERT INTO linked.person AS p (person_id, record_key, birth_year, sex, ethnicity, la_code, death_date)
        SELECT DISTINCT ON (person_id) person_id, record_key, birth_year, sex, \(ethnicity), la_code, \(deathDate)
        FROM \(staging) ORDER BY person_id, line_no
        ON CONFLICT (person_id) DO UPDATE
        SET ethnicity = coalesce(p.ethnicity, EXCLUDED.ethnicity), death_date = coalesce(p.death_date, EXCLUDED.death_date)
        WHERE (p.ethnicity IS NULL AND EXCLUDED.ethnicity IS NOT NULL) OR (p.death_date IS NULL AND EXCLUDED.death_date IS NOT NULL)
        """
    }

    /// One pass over the staging table: each key's first row that no earlier file loaded is inserted, and every other
    /// row comes back with its reason. A plain INSERT (no `ON CONFLICT`): the key was looked up already, and ingest holds
    /// ``Ingestor/fileTransactionSQL`` so no other ingest inserts a key between the look-up and the insert.
    private static func mergeSQL(staging: String, target: String, key: [String], columns: [String], what: String) -> String {
        let keyList = key.joined(separator: ", ")
        let match = key.map { "t.\($0) = s.\($0)" }.joined(separator: " AND ")
        return """
            WITH ranked AS MATERIALIZED (
                SELECT s.*, row_number() OVER (PARTITION BY \(keyList) ORDER BY s.line_no) AS copy_no,
                       EXISTS (SELECT FROM \(target) t WHERE \(match)) AS loaded_before
                FROM \(staging) s
            ), inserted AS (
                INSERT INTO \(target) (\(columns.joined(separator: ", ")))
                SELECT \(columns.joined(separator: ", ")) FROM ranked WHERE copy_no = 1 AND NOT loaded_before
            )
            SELECT line_no, CASE WHEN copy_no > 1 THEN '\(what): repeated in this file'
                                 ELSE '\(what): already loaded from an earlier file' END
            FROM ranked
            WHERE copy_no > 1 OR loaded_before
            ORDER BY line_no
            """
    }
}
