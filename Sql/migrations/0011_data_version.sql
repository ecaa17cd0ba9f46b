-- Two kinds of counters for the statistics cache of `sde-broker serve`, each moved on in the same transaction as the
-- change it counts:
-- * broker.data_version: any INSERT, UPDATE, DELETE or TRUNCATE of a linked table (ingest or a change by hand), and
--   any migration or view applied. A query's cached statistics are used only while the version they were computed
--   at is still current, so a cached answer is always the answer the data would give now.
-- * broker.ledger_version: per vetted query, any cells recorded in the release ledger. A query's cached earlier cells
--   are used only while its ledger version is unchanged.
CREATE TABLE broker.data_version (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version bigint NOT NULL CHECK (version >= 1)
);
INSERT INTO broker.data_version (version) VALUES (1);
-- The broker reads it with the release ledger, as sde_broker.
GRANT SELECT ON broker.data_version TO sde_broker;

CREATE FUNCTION broker.advance_data_version() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    UPDATE broker.data_version SET version = version + 1;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION broker.advance_data_version() FROM PUBLIC;

-- Every table of the linked schema (a test checks that tables added later get the trigger too), and the migrations
-- table, whose rows change whenever a migration or a changed view is applied.
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'linked' AND c.relkind IN ('r', 'p')
        UNION ALL SELECT 'public.sde_schema_migration'::regclass
    LOOP
        EXECUTE format(
            'CREATE TRIGGER advance_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s '
            'FOR EACH STATEMENT EXECUTE FUNCTION broker.advance_data_version()', t);
    END LOOP;
END
$$;

CREATE TABLE broker.ledger_version (
    query_id text PRIMARY KEY,
    version bigint NOT NULL CHECK (version >= 1)
);
GRANT SELECT ON broker.ledger_version TO sde_broker;

CREATE FUNCTION broker.advance_ledger_version() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    INSERT INTO broker.ledger_version AS l (query_id, version)
    SELECT DISTINCT query_id, 1 FROM recorded
    ON CONFLICT (query_id) DO UPDATE SET version = l.version + 1;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION broker.advance_ledger_version() FROM PUBLIC;
CREATE TRIGGER advance_ledger_version AFTER INSERT ON broker.released_cell
    REFERENCING NEW TABLE AS recorded FOR EACH STATEMENT EXECUTE FUNCTION broker.advance_ledger_version();
