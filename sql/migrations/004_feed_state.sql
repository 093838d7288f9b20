-- Conditional GET for feeds and sitemaps: the validators each URL answered with last, and the digest of
-- the body they stand for (under data/raw/), so a 304 re-reads that body instead of meaning "nothing".
-- Written only by `load`, in the run's transaction; discovery reads it.
create table feed_state (
    url varchar primary key,
    source varchar not null,
    etag varchar,
    last_modified varchar,
    body_sha256 varchar,
    status integer not null,
    checked_at timestamp not null
);
