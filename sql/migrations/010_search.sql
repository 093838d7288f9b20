-- Search: an inverted index that the loads keep in the same transaction as the articles it indexes
-- (pipelines/search.py), so search never disagrees with `articles`. One row per run, field and word.
create table search_postings (
    run_id varchar not null,
    field varchar not null,
    term varchar not null,
    article_ids varchar[] not null,
    counts integer[] not null
);

-- What the index holds per run: a run whose articles no longer number this many is indexed again, and
-- so are runs loaded before this migration (searchindex.repair). `compacted`: the run's rows have been
-- rewritten in word order with the rest (searchindex.compact), so a word's rows sit together on disk.
create table search_runs (
    run_id varchar primary key,
    articles integer not null,
    compacted boolean not null default false
);
