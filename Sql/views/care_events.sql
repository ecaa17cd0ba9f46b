-- Dataset `care_events`: every social care event with derived quarter, age band and region.
DROP VIEW IF EXISTS datasets.care_events;
-- LEFT JOINs to person and local_authority give the same rows as inner joins (the foreign keys are NOT NULL), but
-- PostgreSQL can drop a LEFT JOIN to a unique key whose columns a query does not use: a query without age band,
-- sex or region never reads the person or local authority tables.
-- `la_code` is the base column itself, not an expression over it: with GROUPING SETS, PostgreSQL wraps a view's
-- computed columns so that no index can serve a filter on them, and a query for one local authority then scanned the
-- whole country's events (see migration 0009 for the index that serves it).
-- `record_key` (migration 0012) is the person's secret record key, copied onto the event: the compiler sums it into
-- cell keys and never offers it as a dimension or measure.
CREATE VIEW datasets.care_events AS
SELECT e.person_id,
       e.record_key,
       e.event_start                                        AS period_date,
       to_char(e.event_start, 'YYYY"Q"Q')                   AS quarter,
       e.la_code                                            AS la_code,
       la.region_code::text                                 AS region_code,
       CASE
           WHEN extract(year FROM e.event_start) - p.birth_year < 65 THEN '18-64'
           WHEN extract(year FROM e.event_start) - p.birth_year < 75 THEN '65-74'
           WHEN extract(year FROM e.event_start) - p.birth_year < 85 THEN '75-84'
           ELSE '85+'
       END                                                  AS age_band,
       p.sex::text                                          AS sex,
       coalesce(p.ethnicity, 'not_stated')                  AS ethnicity,
       e.event_type,
       e.service_type,
       e.support_reason,
       e.outcome,
       e.planned_hours,
       round(e.planned_hours * e.unit_cost, 2)              AS weekly_cost
FROM linked.care_event e
LEFT JOIN linked.person p ON p.person_id = e.person_id
LEFT JOIN linked.local_authority la ON la.la_code = e.la_code;
GRANT SELECT ON datasets.care_events TO sde_reader;
