-- Schemas: `linked` holds the pseudonymised linked records (nobody reads it directly),
-- `datasets` the curated views researchers' queries run over, `broker` the broker's own state.
CREATE SCHEMA IF NOT EXISTS linked;
CREATE SCHEMA IF NOT EXISTS datasets;
CREATE SCHEMA IF NOT EXISTS broker;

-- Roles are cluster-wide, so another database of the same cluster may have created them already (or be creating
-- them right now: hence the exception handlers rather than a NOT EXISTS check alone).
-- sde_reader: what vetted queries run as; may SELECT the curated views and nothing else.
-- sde_broker: the broker's own bookkeeping (audit, tokens, ledger, releases): INSERT and SELECT, never UPDATE or DELETE of audit.
DO $$
BEGIN
    BEGIN
        CREATE ROLE sde_reader NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    BEGIN
        CREATE ROLE sde_broker NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
END
$$;

REVOKE ALL ON SCHEMA linked FROM PUBLIC;
REVOKE ALL ON SCHEMA broker FROM PUBLIC;
REVOKE ALL ON SCHEMA datasets FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA datasets TO sde_reader;
GRANT USAGE ON SCHEMA broker TO sde_broker;
