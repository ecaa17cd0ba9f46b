-- Regulator releases (Policies/releases.yaml), published by an operator with `sde-broker release publish`: each
-- publication is a new version, stored immutably after its audit event committed (nothing is readable that was not
-- audited). Regulators read these rows; they never trigger a computation.
CREATE TABLE broker.release_version (
    release_id      text NOT NULL CHECK (length(release_id) BETWEEN 1 AND 64),
    version         integer NOT NULL CHECK (version >= 1),
    published_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- The policy set the release was computed under, and the audit event that released it.
    policy_digest   text NOT NULL CHECK (policy_digest ~ '^[0-9a-f]{64}$'),
    audit_sequence  bigint NOT NULL UNIQUE REFERENCES broker.audit_event (sequence),
    -- The protected-table document (canonical JSON, without its audit member: the bytes the audit event's
    -- output_sha256 names) and its SHA-256, and the same cells as CSV.
    document        bytea NOT NULL,
    document_sha256 text NOT NULL CHECK (document_sha256 = encode(sha256(document), 'hex')),
    csv             bytea NOT NULL,
    PRIMARY KEY (release_id, version)
);

-- Versions of a release count 1, 2, 3, ... without gaps.
CREATE FUNCTION broker.check_release_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.version <> coalesce((SELECT max(version) FROM broker.release_version WHERE release_id = NEW.release_id), 0) + 1 THEN
        RAISE EXCEPTION 'release % version % does not follow the latest version', NEW.release_id, NEW.version;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER release_version_in_order BEFORE INSERT ON broker.release_version
    FOR EACH ROW EXECUTE FUNCTION broker.check_release_version();

-- Published means published: not the broker's role (no privilege) nor the table's owner (the trigger) may change it.
CREATE TRIGGER release_version_no_update_or_delete BEFORE UPDATE OR DELETE ON broker.release_version
    FOR EACH ROW EXECUTE FUNCTION broker.refuse_append_only_change();
CREATE TRIGGER release_version_no_truncate BEFORE TRUNCATE ON broker.release_version
    FOR EACH STATEMENT EXECUTE FUNCTION broker.refuse_append_only_change();

REVOKE ALL ON broker.release_version FROM PUBLIC;
GRANT SELECT, INSERT ON broker.release_version TO sde_broker;
