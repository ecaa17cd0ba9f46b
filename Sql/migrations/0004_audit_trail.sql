-- The audit trail's database store: one row per chained event, append-only.
-- `line` is the event's canonical JSON exactly as in the AuditLogs/*.jsonl mirror (text, not jsonb, which would
-- reformat it), so both stores can be verified and compared byte for byte.
CREATE TABLE broker.audit_event (
    sequence    bigint PRIMARY KEY CHECK (sequence > 0),
    hash        text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$'),
    line        text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Nobody rewrites history: not the broker's role (no privilege) and not the table's owner (the trigger).
CREATE FUNCTION broker.refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'broker.audit_event is append-only: % refused', TG_OP;
END
$$;
CREATE TRIGGER audit_event_no_update_or_delete BEFORE UPDATE OR DELETE ON broker.audit_event
    FOR EACH ROW EXECUTE FUNCTION broker.refuse_audit_change();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON broker.audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION broker.refuse_audit_change();

REVOKE ALL ON broker.audit_event FROM PUBLIC;
GRANT SELECT, INSERT ON broker.audit_event TO sde_broker;
