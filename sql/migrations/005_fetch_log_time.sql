-- When each fetch_log row was logged, as the run's logical time (its window's end; an ingest's start),
-- so failures can be counted per day; and how many HTTP requests a fetch made (retries included).
alter table fetch_log add column logged_at timestamp;
alter table fetch_log add column attempts integer;
