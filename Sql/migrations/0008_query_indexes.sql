-- Indexes for the vetted queries over the curated views (measured at 1,000,000 persons: Benchmarks/queries.sh).
-- IF NOT EXISTS: an operator may have created them by hand on a large database before this migration shipped.

-- request_waits: a request's first assessment by the same council on or after it, read from the index alone
-- (the older care_event_person_type_start index has no la_code, so each lookup also visited the table).
CREATE INDEX IF NOT EXISTS care_event_assessment_lookup ON linked.care_event (person_id, la_code, event_start)
    WHERE event_type = 'assessment';

-- request_waits: the requests of a period with every column the view needs, read from the index alone.
CREATE INDEX IF NOT EXISTS care_event_requests ON linked.care_event (event_start) INCLUDE (person_id, la_code, support_reason)
    WHERE event_type = 'request';
