-- The differencing ledger keyed by population (DESIGN section 7; issue 11, mechanisms 4 and 5). A released cell's
-- population is its dataset view, a date window and a conjunction of predicates (filters, the cell's dimension values
-- with implied parents, a measure's own condition); the broker compares every population it is about to release with
-- the populations released earlier that contain it or are nested in it, whatever vetted query, project or release
-- released them, and withholds a cell when the two true counts differ by 1 to k-1 persons.
--
-- broker.released_cell (0005) was keyed by vetted query and dimension values: its rows cannot be turned into
-- populations here (that needs the catalogue as it was: each query's dataset, filters and measure conditions). It is
-- kept, read-only, for the IG team's review; the broker no longer reads or writes it.
CREATE TABLE broker.released_population (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dataset      text NOT NULL CHECK (length(dataset) BETWEEN 1 AND 64),
    -- The first and last day of the population's period: a run's window, or one quarter of it.
    window_from  date NOT NULL,
    window_to    date NOT NULL CHECK (window_to >= window_from),
    -- The predicates, canonical: {"column": ["value", ...] (sorted), or null for "not null"}; {} when none.
    predicates   jsonb NOT NULL CHECK (jsonb_typeof(predicates) = 'object'),
    -- Index terms of the predicates, sorted: 'dataset|column' for each, 'dataset|column=value' for a single value. A
    -- population nested in another has all of the other's terms, so the terms find candidates, which the broker then
    -- checks exactly against the predicates.
    terms        text[] NOT NULL,
    -- True distinct persons when released (never the published, rounded or perturbed value).
    persons      bigint NOT NULL CHECK (persons >= 0),
    -- The terms with the count's bucket of 16 ('dataset|#n'), so that one GIN probe finds the nested populations whose
    -- count is near a given one (only differences of 1 to k-1 matter).
    search_terms text[] GENERATED ALWAYS AS (terms || (dataset || '|#' || (persons / 16)::text)) STORED,
    -- For review: the vetted query that released it, and what released it.
    query_id     text NOT NULL CHECK (length(query_id) BETWEEN 1 AND 64),
    source       text NOT NULL CHECK (source IN ('project', 'release')),
    source_id    text NOT NULL CHECK (length(source_id) BETWEEN 1 AND 64),
    released_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- A population released again with the same true count adds nothing to the guard: recorded once
-- (INSERT ... ON CONFLICT DO NOTHING), so repeating a query, or asking the same population through another query,
-- does not grow the ledger.
CREATE UNIQUE INDEX released_population_once ON broker.released_population (dataset, window_from, window_to, predicates, persons);
-- Populations containing a cell: one probe per possible term set of a container, with the count's range.
CREATE INDEX released_population_by_terms ON broker.released_population (dataset, terms, persons);
-- Populations nested in a cell: the cell's value terms and the count's bucket. Without the pending list (fastupdate),
-- which every probe would scan whole until the next vacuum: a run inserts a few thousand rows, and reads on every request.
CREATE INDEX released_population_search ON broker.released_population USING gin (search_terms) WITH (fastupdate = off);

CREATE TRIGGER released_population_no_update_or_delete BEFORE UPDATE OR DELETE ON broker.released_population
    FOR EACH ROW EXECUTE FUNCTION broker.refuse_append_only_change();
CREATE TRIGGER released_population_no_truncate BEFORE TRUNCATE ON broker.released_population
    FOR EACH STATEMENT EXECUTE FUNCTION broker.refuse_append_only_change();
REVOKE ALL ON broker.released_population FROM PUBLIC;
GRANT SELECT, INSERT ON broker.released_population TO sde_broker;

-- The old ledger: read-only for everyone (the triggers of 0005 already refuse changes).
REVOKE INSERT ON broker.released_cell FROM sde_broker;

-- The ledger version (0011) moves per dataset now: populations that can nest share a dataset, and so do the runs that
-- must see each other's cells (the ledger lock is per dataset too).
DROP TRIGGER advance_ledger_version ON broker.released_cell;
DROP FUNCTION broker.advance_ledger_version();
DROP TABLE broker.ledger_version;
CREATE TABLE broker.ledger_version (
    dataset text PRIMARY KEY,
    version bigint NOT NULL CHECK (version >= 1)
);
GRANT SELECT ON broker.ledger_version TO sde_broker;

CREATE FUNCTION broker.advance_ledger_version() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    INSERT INTO broker.ledger_version AS l (dataset, version)
    SELECT DISTINCT dataset, 1 FROM recorded
    ON CONFLICT (dataset) DO UPDATE SET version = l.version + 1;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION broker.advance_ledger_version() FROM PUBLIC;
CREATE TRIGGER advance_ledger_version AFTER INSERT ON broker.released_population
    REFERENCING NEW TABLE AS recorded FOR EACH STATEMENT EXECUTE FUNCTION broker.advance_ledger_version();
