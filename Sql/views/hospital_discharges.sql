-- Dataset `hospital_discharges`: one row per hospital discharge of a person aged 65 or over, alive at discharge,
-- with the social care that followed (the ASCOF measure of older people still at home 91 days after discharge
-- into reablement): reablement started within 7 days of discharge; at home 91 days later (alive, and no
-- residential or nursing care started in those 91 days).
DROP VIEW IF EXISTS datasets.hospital_discharges;
-- LEFT JOIN to local_authority gives the same rows as an inner join (person.la_code is a NOT NULL foreign key), but
-- PostgreSQL drops it from queries that do not use the region.
-- `record_key`: the person's secret record key (migration 0012), only ever summed into cell keys.
CREATE VIEW datasets.hospital_discharges AS
SELECT h.person_id,
       h.record_key,
       h.discharge_date                                     AS period_date,
       to_char(h.discharge_date, 'YYYY"Q"Q')                AS quarter,
       p.la_code::text                                      AS la_code,
       la.region_code::text                                 AS region_code,
       CASE
           WHEN extract(year FROM h.discharge_date) - p.birth_year < 75 THEN '65-74'
           WHEN extract(year FROM h.discharge_date) - p.birth_year < 85 THEN '75-84'
           ELSE '85+'
       END                                                  AS age_band,
       p.sex::text                                          AS sex,
       h.admission_method,
       h.discharge_destination,
       EXISTS (
           SELECT FROM linked.care_event s
           WHERE s.person_id = h.person_id AND s.event_type = 'service' AND s.service_type = 'reablement'
             AND s.event_start BETWEEN h.discharge_date AND h.discharge_date + 7
       )                                                    AS reablement_within_7_days,
       (p.death_date IS NULL OR p.death_date > h.discharge_date + 91)
       AND NOT EXISTS (
           SELECT FROM linked.care_event s
           WHERE s.person_id = h.person_id AND s.event_type = 'service'
             AND s.service_type IN ('residential_care', 'nursing_care')
             AND s.event_start BETWEEN h.discharge_date AND h.discharge_date + 91
       )                                                    AS at_home_91_days
FROM linked.hospital_spell h
JOIN linked.person p USING (person_id)
LEFT JOIN linked.local_authority la ON la.la_code = p.la_code
WHERE h.discharge_destination <> 'died'
  AND extract(year FROM h.discharge_date) - p.birth_year >= 65;
GRANT SELECT ON datasets.hospital_discharges TO sde_reader;
