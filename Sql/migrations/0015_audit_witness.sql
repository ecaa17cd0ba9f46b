-- The audit trail's verification key, pinned at the broker's first start: the trail refuses to open with any other
-- signing key, so a key pair swapped in the state folder signs nothing. `audit verify` judges the trail by the key
-- given in configuration (outside the state folder), and by this one, and fails when they differ. One row only.
CREATE TABLE broker.audit_key (
    key_id       text PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{16}$'),
    -- The C2SP verifier key: sde-broker/audit/<key_id>+<note key id>+<base64 of 0x01 and the Ed25519 key>.
    verifier_key text NOT NULL CHECK (verifier_key LIKE 'sde-broker/audit/' || key_id || '+%'),
    pinned_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE UNIQUE INDEX audit_key_one_row ON broker.audit_key ((true));

CREATE TRIGGER audit_key_no_update_or_delete BEFORE UPDATE OR DELETE ON broker.audit_key
    FOR EACH ROW EXECUTE FUNCTION broker.refuse_append_only_change();
CREATE TRIGGER audit_key_no_truncate BEFORE TRUNCATE ON broker.audit_key
    FOR EACH STATEMENT EXECUTE FUNCTION broker.refuse_append_only_change();

REVOKE ALL ON broker.audit_key FROM PUBLIC;
GRANT SELECT, INSERT ON broker.audit_key TO sde_broker;

-- Each regulator release carries the signed checkpoint (a C2SP checkpoint note) written right after its
-- release.publish event, so the regulator holds a copy of the trail's head that covers the release. It lives beside
-- the document, not in it: the event's output_sha256 still names exactly the document's bytes. NULL for versions
-- published before checkpoints were signed tree heads.
ALTER TABLE broker.release_version ADD COLUMN audit_checkpoint text CHECK (length(audit_checkpoint) <= 16384);
