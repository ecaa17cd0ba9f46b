-- The signed policy versions this broker accepted (issue 13): the policy root it pinned first and every root it accepted
-- since (each chained from the one before by a threshold of the previous IG officers' keys), and every manifest version.
-- A set whose manifest version is lower than the highest here, or equal to it with another digest, or whose roots do
-- not include every root here with the same digest, is refused: whoever can write Policies/ cannot roll the broker
-- back to an older signed set (one that still lists a since-suspended project, say) or swap the IG officers' keys.
--
-- digest is the SHA-256 of the canonical JSON of the signed content (the file without its signatures).
CREATE TABLE broker.policy_version (
    kind        text NOT NULL CHECK (kind IN ('root', 'manifest')),
    version     bigint NOT NULL CHECK (version >= 1),
    digest      text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
    accepted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (kind, version)
);

-- Versions only go up, whoever inserts: a row at or below the highest of its kind is refused.
CREATE FUNCTION broker.refuse_policy_version_rollback() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM broker.policy_version WHERE kind = NEW.kind AND version >= NEW.version) THEN
        RAISE EXCEPTION 'broker.policy_version: a % version must be above the highest accepted', NEW.kind;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER policy_version_only_up BEFORE INSERT ON broker.policy_version
    FOR EACH ROW EXECUTE FUNCTION broker.refuse_policy_version_rollback();

-- Append-only like the other broker tables: not the broker's role (no privilege), not the owner (the triggers).
CREATE TRIGGER policy_version_no_update_or_delete BEFORE UPDATE OR DELETE ON broker.policy_version
    FOR EACH ROW EXECUTE FUNCTION broker.refuse_append_only_change();
CREATE TRIGGER policy_version_no_truncate BEFORE TRUNCATE ON broker.policy_version
    FOR EACH STATEMENT EXECUTE FUNCTION broker.refuse_append_only_change();
REVOKE ALL ON broker.policy_version FROM PUBLIC;
GRANT SELECT, INSERT ON broker.policy_version TO sde_broker;
