-- Dataset `request_waits`: one row per request for support, with the first assessment of the same person
-- by the same local authority on or after the request, and the days waited (null when never assessed).
DROP VIEW IF EXISTS datasets.request_waits;
-- LEFT JOINs to person and local_authority give the same rows as inner joins (the foreign keys are NOT NULL), but
-- PostgreSQL can drop a LEFT JOIN to a unique key whose columns a query does not use: a query without age band,
-- sex or region never reads the person or local authority tables.
-- `record_key`: the person's secret record key (migration 0012), only ever summed into cell keys.
CREATE VIEW datasets.request_waits AS
SELECT r.person_id,
       r.record_key,
       r.event_start                                        AS period_date,
       to_char(r.event_start, 'YYYY"Q"Q')                   AS quarter,
       r.la_code::text                                      AS la_code,
       la.region_code::text                                 AS region_code,
       CASE
           WHEN extract(year FROM r.event_start) - p.birth_year < 65 THEN '18-64'
           WHEN extract(year FROM r.event_start) - p.birth_year < 75 THEN '65-74'
           WHEN extract(year FROM r.event_start) - p.birth_year < 85 THEN '75-84'
           ELSE '85+'
       END                                                  AS age_band,
       p.sex::text                                          AS sex,
       r.support_reason,
       a.event_start IS NOT NULL                            AS assessed,
       a.event_start - r.event_start                        AS days_to_assessment
FROM linked.care_event r
LEFT JOIN linked.person p ON p.person_id = r.person_id
LEFT JOIN linked.local_authority la ON la.la_code = r.la_code
-- min() rather than ORDER BY ... LIMIT 1: an aggregate always returns exactly one row, so PostgreSQL removes this
-- join altogether from queries that use neither `assessed` nor `days_to_assessment`; when they do, min() still reads
-- one entry of the index care_event_assessment_lookup (migration 0008).
LEFT JOIN LATERAL (
    SELECT min(x.event_start) AS event_start
    FROM linked.care_event x
    WHERE x.person_id = r.person_id AND x.event_type = 'assessment' AND x.la_code = r.la_code AND x.event_start >= r.event_start
) a ON true
WHERE r.event_type = 'request';
GRANT SELECT ON datasets.request_waits TO sde_reader;
