-- The analysts' contract: every table and column here is documented in README.md (data dictionary).
-- Times are UTC, stored as timestamp without time zone.

create table articles (
    article_id varchar primary key,
    url varchar not null,
    source varchar not null,
    title varchar,
    published_at timestamp,
    date_origin varchar,
    language varchar,
    text varchar not null,
    word_count integer not null,
    author varchar,
    site_name varchar,
    content_hash varchar not null,
    minhash ubigint[],
    duplicate_of varchar,
    raw_sha256 varchar,
    fetched_at timestamp not null,
    run_id varchar not null
);

create table entities (
    entity_id varchar primary key,
    name varchar not null,
    type varchar not null,
    aliases varchar[] not null,
    country_code varchar,
    latitude double,
    longitude double,
    geonames_id bigint,
    precision varchar
);

create table mentions (
    mention_id varchar primary key,
    article_id varchar not null,
    entity_id varchar not null,
    surface varchar not null,
    form varchar not null,
    start_char integer not null,
    end_char integer not null,
    sentence_index integer not null,
    label varchar not null
);

create table claims (
    claim_id varchar primary key,
    article_id varchar not null,
    kind varchar not null,
    speaker_entity_id varchar,
    speaker varchar,
    cue varchar,
    text varchar not null,
    start_char integer not null,
    end_char integer not null
);

create table dq_results (
    run_id varchar not null,
    table_name varchar not null,
    check_name varchar not null,
    severity varchar not null,
    success boolean not null,
    observed varchar,
    details varchar
);

create table alerts (
    alert_id varchar primary key,
    rule_id varchar not null,
    entity_id varchar,
    article_id varchar not null,
    mention_id varchar,
    created_at timestamp not null,
    channel varchar not null,
    status varchar not null,
    attempts integer not null default 0,
    error varchar,
    matched varchar,
    snippet varchar,
    run_id varchar not null
);

create table runs (
    run_id varchar primary key,
    kind varchar not null,
    logical_date timestamp,
    window_start timestamp,
    window_end timestamp,
    started_at timestamp,
    finished_at timestamp,
    status varchar not null,
    counts json
);

create table fetch_log (
    run_id varchar not null,
    source varchar not null,
    url varchar not null,
    stage varchar not null,
    reason varchar not null,
    http_status integer
);
