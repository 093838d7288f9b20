-- Every item a run fetched, with its fetch metadata: with the bytes under data/raw/<sha256> it is all a
-- reprocess needs to rebuild the run without refetching (including items whose extraction failed).
create table fetched (
    run_id varchar not null,
    url varchar not null,
    source varchar not null,
    local boolean not null,
    feed_title varchar,
    feed_published timestamp,
    raw_sha256 varchar not null,
    kind varchar not null,
    charset varchar,
    http_status integer,
    fetched_at timestamp not null
);

-- Runs loaded before this table existed: what their articles say (their pages were HTML as a rule).
insert into fetched
select run_id, url, source, not (url like 'http://%' or url like 'https://%'), title,
       case when date_origin = 'feed' then published_at end, raw_sha256, 'html', null, null, fetched_at
from articles
where raw_sha256 is not null;
