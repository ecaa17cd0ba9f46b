-- What ingest has loaded, so re-ingesting the same files loads nothing twice, and which key it used.

-- One row: the key check value (HMAC of a fixed string under the pseudonymisation key). A later ingest
-- with a different key is refused, because its pseudonyms would not link to the ones already loaded.
CREATE TABLE broker.ingest_key (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    check_value text NOT NULL CHECK (check_value ~ '^[0-9a-f]{64}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE broker.ingest_file (
    file_name        text NOT NULL,
    file_sha256      text NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
    rows_read        bigint NOT NULL CHECK (rows_read >= 0),
    rows_loaded      bigint NOT NULL CHECK (rows_loaded >= 0),
    rows_quarantined bigint NOT NULL CHECK (rows_quarantined >= 0),
    loaded_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (rows_read = rows_loaded + rows_quarantined),
    -- The same content under the same name is the same delivery; a renamed copy is read again and its rows,
    -- already loaded, are quarantined as duplicates.
    PRIMARY KEY (file_name, file_sha256)
);
