-- Pseudonymised, linked health and social care records (DESIGN section 5).
-- person_id is HMAC-SHA256 of the NHS number under a key that never enters the database: 32 bytes.

CREATE TABLE linked.local_authority (
    la_code     char(9) PRIMARY KEY CHECK (la_code ~ '^E(06|08|09|10)[0-9]{6}$'),
    la_name     text NOT NULL CHECK (length(la_name) BETWEEN 1 AND 100),
    region_code char(9) NOT NULL CHECK (region_code ~ '^E12[0-9]{6}$'),
    region_name text NOT NULL CHECK (length(region_name) BETWEEN 1 AND 100)
);
CREATE INDEX local_authority_region ON linked.local_authority (region_code);

CREATE TABLE linked.person (
    person_id  bytea PRIMARY KEY CHECK (octet_length(person_id) = 32),
    birth_year smallint NOT NULL CHECK (birth_year BETWEEN 1900 AND 2008),
    sex        char(1) NOT NULL CHECK (sex IN ('F', 'M', 'X')),
    ethnicity  text CHECK (ethnicity IN ('white', 'mixed', 'asian', 'black', 'other', 'not_stated')),
    la_code    char(9) NOT NULL REFERENCES linked.local_authority,
    death_date date CHECK (death_date BETWEEN make_date(birth_year, 1, 1) AND DATE '2030-12-31')
);
CREATE INDEX person_la ON linked.person (la_code);

CREATE TABLE linked.care_event (
    event_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id      bytea NOT NULL REFERENCES linked.person,
    la_code        char(9) NOT NULL REFERENCES linked.local_authority,
    event_ref      text NOT NULL CHECK (length(event_ref) BETWEEN 1 AND 40),
    event_type     text NOT NULL CHECK (event_type IN ('request', 'assessment', 'service', 'review')),
    event_start    date NOT NULL CHECK (event_start BETWEEN DATE '2000-01-01' AND DATE '2030-12-31'),
    event_end      date CHECK (event_end >= event_start AND event_end <= DATE '2030-12-31'),
    outcome        text NOT NULL,
    service_type   text CHECK (service_type IN ('home_care', 'reablement', 'residential_care', 'nursing_care', 'day_care',
                                                'direct_payment', 'supported_living')),
    support_reason text NOT NULL CHECK (support_reason IN ('physical_support', 'sensory_support', 'memory_cognition',
                                                           'learning_disability', 'mental_health', 'social_support')),
    planned_hours  numeric(5, 2) CHECK (planned_hours > 0 AND planned_hours <= 168),
    unit_cost      numeric(7, 2) CHECK (unit_cost > 0 AND unit_cost <= 500),
    -- The provider's own reference: re-sending an extract never loads an event twice.
    UNIQUE (la_code, event_ref),
    CHECK (CASE event_type
        WHEN 'request' THEN outcome IN ('to_assessment', 'universal_services', 'signposted', 'no_services', 'declined')
        WHEN 'assessment' THEN outcome IN ('long_term_support', 'short_term_support', 'no_eligible_needs')
        WHEN 'service' THEN outcome IN ('ongoing', 'ended')
        WHEN 'review' THEN outcome IN ('no_change', 'increased', 'decreased', 'ended')
    END),
    -- Service type, hours and cost belong to services and only to services.
    CHECK ((event_type = 'service') = (service_type IS NOT NULL)),
    CHECK ((event_type = 'service') = (planned_hours IS NOT NULL AND unit_cost IS NOT NULL)),
    CHECK (event_type = 'service' OR (planned_hours IS NULL AND unit_cost IS NULL))
);
-- Views filter by LA and period, link requests to assessments per person, and find services after discharge.
CREATE INDEX care_event_la_start ON linked.care_event (la_code, event_start);
CREATE INDEX care_event_type_start ON linked.care_event (event_type, event_start);
CREATE INDEX care_event_person_type_start ON linked.care_event (person_id, event_type, event_start);
CREATE INDEX care_event_person_service ON linked.care_event (person_id, service_type, event_start) WHERE event_type = 'service';

CREATE TABLE linked.hospital_spell (
    spell_id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id             bytea NOT NULL REFERENCES linked.person,
    provider_code         text NOT NULL CHECK (provider_code ~ '^R[A-Z0-9]{2}([A-Z0-9]{2})?$'),
    spell_ref             text NOT NULL CHECK (length(spell_ref) BETWEEN 1 AND 40),
    admission_date        date NOT NULL CHECK (admission_date BETWEEN DATE '2000-01-01' AND DATE '2030-12-31'),
    discharge_date        date NOT NULL CHECK (discharge_date >= admission_date AND discharge_date <= DATE '2030-12-31'),
    admission_method      text NOT NULL CHECK (admission_method IN ('elective', 'emergency', 'maternity', 'transfer')),
    discharge_destination text NOT NULL CHECK (discharge_destination IN ('usual_residence', 'care_home', 'nursing_home',
                                                                         'other_hospital', 'died', 'other')),
    diagnosis_chapter     text NOT NULL CHECK (diagnosis_chapter IN ('I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', 'X', 'XI',
                                                                     'XII', 'XIII', 'XIV', 'XV', 'XVI', 'XVII', 'XVIII', 'XIX', 'XX',
                                                                     'XXI', 'XXII')),
    UNIQUE (provider_code, spell_ref)
);
CREATE INDEX hospital_spell_discharge ON linked.hospital_spell (discharge_date);
CREATE INDEX hospital_spell_person ON linked.hospital_spell (person_id, discharge_date);

-- Nobody but the owner touches base tables; sde_reader reads the curated views only.
REVOKE ALL ON ALL TABLES IN SCHEMA linked FROM PUBLIC;
