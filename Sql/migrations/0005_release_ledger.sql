-- The release ledger (differencing guard, DESIGN section 7): every cell a vetted query has released, to any project
-- or in any regulator release, with the true person counts behind it. Before a vetted query's table is released, the
-- broker reads the cells this query released earlier over date windows nested in or containing this run's window,
-- and suppresses (`differencing`) any cell whose true count differs from one of them by 1 to k-1 persons.
-- Shared by every project and release, because colluding users are the threat. Append-only, like the audit trail.
CREATE TABLE broker.released_cell (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The vetted query, and the window of the run: the first and last day of its period (whole quarters).
    query_id          text NOT NULL CHECK (length(query_id) BETWEEN 1 AND 64),
    window_from       date NOT NULL,
    window_to         date NOT NULL CHECK (window_to >= window_from),
    -- The run's other (non-window) parameters, e.g. {"region": "E12000004"}; {} when none. Prior cells are those whose
    -- filters are a subset or superset of the run's (a filtered population is nested in the unfiltered one, like a
    -- window); disjoint filters describe disjoint populations and are not compared.
    parameters        jsonb NOT NULL CHECK (jsonb_typeof(parameters) = 'object'),
    -- Dimension values in the query's dimension order; JSON null marks a total over that dimension.
    dimensions        jsonb NOT NULL CHECK (jsonb_typeof(dimensions) = 'array'),
    measure           text NOT NULL CHECK (length(measure) BETWEEN 1 AND 64),
    -- True distinct persons the released cell described (for a rate, its denominator), and a rate's numerator.
    persons           bigint NOT NULL CHECK (persons >= 0),
    numerator_persons bigint CHECK (numerator_persons >= 0 AND numerator_persons <= persons),
    -- What released it: a researcher's run under a project, or a regulator release.
    source            text NOT NULL CHECK (source IN ('project', 'release')),
    source_id         text NOT NULL CHECK (length(source_id) BETWEEN 1 AND 64),
    released_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX released_cell_query_window ON broker.released_cell (query_id, window_from, window_to);
-- A cell released again with the same key and the same true counts adds nothing to the guard: it is recorded once
-- (INSERT ... ON CONFLICT DO NOTHING), so repeating a query does not grow the ledger.
CREATE UNIQUE INDEX released_cell_once ON broker.released_cell
    (query_id, window_from, window_to, parameters, dimensions, measure, persons, numerator_persons) NULLS NOT DISTINCT;

-- Nobody rewrites what was released: not the broker's role (no privilege) and not the table's owner (the trigger).
-- One trigger function for every append-only table from here on (the audit trail keeps its own, from 0004).
CREATE FUNCTION broker.refuse_append_only_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP;
END
$$;
CREATE TRIGGER released_cell_no_update_or_delete BEFORE UPDATE OR DELETE ON broker.released_cell
    FOR EACH ROW EXECUTE FUNCTION broker.refuse_append_only_change();
CREATE TRIGGER released_cell_no_truncate BEFORE TRUNCATE ON broker.released_cell
    FOR EACH STATEMENT EXECUTE FUNCTION broker.refuse_append_only_change();

REVOKE ALL ON broker.released_cell FROM PUBLIC;
GRANT SELECT, INSERT ON broker.released_cell TO sde_broker;
