-- API tokens for the HTTP API: `sde_<token_id>_<secret>`. Only the SHA-256 of the secret is stored, never the token,
-- so a copy of this table lets nobody authenticate. A token is looked up by its public id and its secret checked
-- against the hash (in constant time, by the broker).
CREATE TABLE broker.api_token (
    token_id      text PRIMARY KEY CHECK (token_id ~ '^[0-9a-f]{16}$'),
    user_id       text NOT NULL CHECK (user_id ~ '^[!-~]{1,128}$'),
    secret_sha256 text NOT NULL CHECK (secret_sha256 ~ '^[0-9a-f]{64}$'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- The last day (inclusive) on which the token authenticates.
    expires_on    date NOT NULL,
    revoked_at    timestamptz CHECK (revoked_at >= created_at)
);
CREATE INDEX api_token_user ON broker.api_token (user_id);

-- A token's identity, owner, hash and dates never change; the only change is revoking it, once.
-- The trigger binds the owner too; the privileges below bind the broker's role.
CREATE FUNCTION broker.refuse_api_token_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.token_id = OLD.token_id AND NEW.user_id = OLD.user_id AND NEW.secret_sha256 = OLD.secret_sha256
       AND NEW.created_at = OLD.created_at AND NEW.expires_on = OLD.expires_on
       AND OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'broker.api_token: % refused (only revoking an unrevoked token is allowed)', TG_OP;
END
$$;
CREATE TRIGGER api_token_revoke_only BEFORE UPDATE OR DELETE ON broker.api_token
    FOR EACH ROW EXECUTE FUNCTION broker.refuse_api_token_change();
CREATE TRIGGER api_token_no_truncate BEFORE TRUNCATE ON broker.api_token
    FOR EACH STATEMENT EXECUTE FUNCTION broker.refuse_api_token_change();

REVOKE ALL ON broker.api_token FROM PUBLIC;
GRANT SELECT, INSERT ON broker.api_token TO sde_broker;
GRANT UPDATE (revoked_at) ON broker.api_token TO sde_broker;
