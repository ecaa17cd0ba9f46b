-- A counter that moves on, in the same transaction, with every change to what vetted queries read: any INSERT,
-- UPDATE, DELETE or TRUNCATE of a linked table (ingest or a change by hand), and any migration or view applied. The
-- broker's statistics cache (`sde-broker serve`) reuses a query's statistics only while it still reads the version
-- they were computed at, so a cached answer is always the answer the data would give now.
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
