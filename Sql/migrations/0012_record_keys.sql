-- Record keys for the cell-key method (DESIGN section 7): every person's secret record key, derived at ingest from the
-- pseudonym under the perturbation key (which, like the pseudonymisation key, never enters the database). A cell key is
-- the sum of a cell's distinct persons' record keys modulo 2^32, computed in the vetted query's own statement.
--
-- The key lives on linked.person and is copied onto every care event and hospital spell, so the curated views read
-- it from the row itself: the views' LEFT JOIN to person is still dropped from statements that use no person column
-- (at 200,000 persons, reading it through person made requests-by-la-quarter about 60% slower, the copy about 20%).
-- Ingest writes the copy from the same derivation as the person's own key; the perturbation key's check value (below)
-- keeps that derivation the same across ingests.
ALTER TABLE linked.person ADD COLUMN record_key bigint CHECK (record_key >= 0);
ALTER TABLE linked.care_event ADD COLUMN record_key bigint CHECK (record_key >= 0);
ALTER TABLE linked.hospital_spell ADD COLUMN record_key bigint CHECK (record_key >= 0);

-- Rows loaded before this migration have no key: ingest, given the perturbation key, fills them in and then validates
-- these constraints. From now on no row can be written without a key. Vetted queries refuse to run until all three are
-- validated (broker.record_keys_complete() below), rather than compute cell keys that miss persons.
ALTER TABLE linked.person ADD CONSTRAINT person_record_key_present CHECK (record_key IS NOT NULL) NOT VALID;
ALTER TABLE linked.care_event ADD CONSTRAINT care_event_record_key_present CHECK (record_key IS NOT NULL) NOT VALID;
ALTER TABLE linked.hospital_spell ADD CONSTRAINT hospital_spell_record_key_present CHECK (record_key IS NOT NULL) NOT VALID;
-- An empty database (events and spells reference persons) has nothing to fill in.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM linked.person) THEN
        ALTER TABLE linked.person VALIDATE CONSTRAINT person_record_key_present;
        ALTER TABLE linked.care_event VALIDATE CONSTRAINT care_event_record_key_present;
        ALTER TABLE linked.hospital_spell VALIDATE CONSTRAINT hospital_spell_record_key_present;
    END IF;
END
$$;

-- True when every linked row carries a record key (the three constraints above are validated). The query executor
-- reads it in the statement's transaction and fails closed when it is false.
CREATE FUNCTION broker.record_keys_complete() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT count(*) = 3 AND bool_and(convalidated)
    FROM pg_constraint
    WHERE connamespace = 'linked'::regnamespace
      AND conname IN ('person_record_key_present', 'care_event_record_key_present', 'hospital_spell_record_key_present')
$$;
REVOKE ALL ON FUNCTION broker.record_keys_complete() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION broker.record_keys_complete() TO sde_broker;

-- The perturbation key's check value (HMAC-SHA256 of a fixed string under it), recorded by the first ingest that uses
-- it: a later ingest with another perturbation key is refused before it writes anything, because its record keys
-- would not match the ones already stored (and the same population would get different noise).
ALTER TABLE broker.ingest_key ADD COLUMN perturbation_check_value text CHECK (perturbation_check_value ~ '^[0-9a-f]{64}$');

-- request_waits reads every request from this index alone (migration 0008); it now needs the record key too.
DROP INDEX IF EXISTS linked.care_event_requests;
CREATE INDEX care_event_requests ON linked.care_event (event_start) INCLUDE (person_id, la_code, support_reason, record_key)
    WHERE event_type = 'request';
