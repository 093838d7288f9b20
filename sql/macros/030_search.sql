-- Search over the articles, through the index the loads keep (search_postings, pipelines/search.py).

-- What the index holds for one article field: `text` is the title and the text together.
create or replace macro search_field(title, text, field) as
    case field when 'title' then coalesce(title, '') else concat_ws(' ', title, text) end;

-- The index rows of some runs' articles: one per run, field and word, with the articles that hold the
-- word, how often, and where (lists in article order; a position counts the article's words, stopwords
-- dropped, from 1). Runs and words, not articles, make the rows, so a query reads a few thousand rows a run
-- for its words, and a daily load writes only its own rows.
create or replace macro search_index_rows(run_ids) as table
    with
    docs as (
        select run_id, article_id, f.field, search_words(search_field(title, text, f.field)) as words
        from articles, (values ('text'), ('title')) as f(field)
        where run_id in (select unnest(run_ids::varchar[]))
    ),
    words as (
        select run_id, article_id, field, unnest(words) as term, unnest(range(1, len(words) + 1)) as position
        from docs
    ),
    counted as (
        select run_id, field, term, article_id, list_sort(list(position::integer)) as positions
        from words
        group by all
    ),
    -- Sorted after the aggregate, not inside it: an ordered list() sorts every group apart, which made
    -- indexing 2.5 times slower than the rest of it together.
    rows as (
        select run_id, field, term, list_sort(list({'article_id': article_id, 'positions': positions})) as hits
        from counted
        group by all
    )
    select run_id, field, term, search_key(field, term) as term_key, [h.article_id for h in hits] as article_ids,
           [len(h.positions)::integer for h in hits] as counts, [h.positions for h in hits] as positions
    from rows
    order by run_id, term_key;

-- Whether an article is in a search's scope: published in [since, until), and of run in_run (each bound
-- only when given). One definition for every branch of search() that reads articles.
create or replace macro search_scope(published_at, run_id, since, until, in_run) as
    (since is null or published_at >= since) and (until is null or published_at < until)
    and (in_run is null or run_id = in_run);

-- search(q): the articles matching query q (the language is in 020_search_query.sql), with a BM25 score
-- (k1 1.2, b 0.75) over the query's words. Optional: since/until bound published_at, in_run limits the
-- search to one run's articles (what a watchlist rule reads inside a load). A syntax error raises, naming
-- its position. Joinable with every table on article_id:
--     select a.title, s.score from search('"port strike" NOT football') as s join articles as a using (article_id)
create or replace macro search(q, since := null, until := null, in_run := null) as table
    with
    plan as (
        select case when p.error is not null then error('position ' || p.position || ': ' || p.error) end as failed,
               p.leaves as leaves, p.truth as truth
        from (select search_plan(q) as p)
    ),
    leaves as (
        select unnest(leaves) as leaf, unnest(range(len(leaves))) as bit from plan
    ),
    -- Each word of a leaf once ("new new york" reads `new` once), so that an article's postings of a leaf
    -- number its different words found.
    wanted as (
        select *, search_key(field, term) as term_key
        from (
            select distinct bit, leaf.field as field, leaf.kind as kind, leaf.words as words, leaf.value as value,
                   unnest(coalesce(list_distinct(leaf.words), [null])) as term
            from leaves
            where leaf.kind in ('words', 'prefix')
        )
    ),
    -- A prefix's words, from the word list (search_terms) rather than from every index row.
    prefix_words as (
        select w.bit, w.kind, w.words, t.field, t.term, t.term_key
        from wanted as w
        inner join search_terms as t on t.field = w.field and starts_with(t.term, w.value)
        where w.kind = 'prefix'
    ),
    -- The index rows of the leaves' words and of the prefixes' words, joined on the integer key (the words
    -- are compared too, so that a collision of keys could not match). A phrase's words bring their
    -- positions along; a branch whose leaves the query lacks reads next to nothing.
    matched_rows as (
        select w.bit, w.kind, w.words, p.run_id, p.field, p.term, p.article_ids, p.counts,
               null::integer[][] as positions
        from search_postings as p
        inner join wanted as w on p.term_key = w.term_key
        where w.kind = 'words' and len(w.words) = 1 and p.field = w.field and p.term = w.term
          and (in_run is null or p.run_id = in_run)
        union all
        select w.bit, w.kind, w.words, p.run_id, p.field, p.term, p.article_ids, p.counts, p.positions
        from search_postings as p
        inner join wanted as w on p.term_key = w.term_key
        where w.kind = 'words' and len(w.words) > 1 and p.field = w.field and p.term = w.term
          and (in_run is null or p.run_id = in_run)
        union all
        select w.bit, w.kind, w.words, p.run_id, p.field, p.term, p.article_ids, p.counts, null
        from search_postings as p
        inner join prefix_words as w on p.term_key = w.term_key
        where p.field = w.field and p.term = w.term and (in_run is null or p.run_id = in_run)
    ),
    frequencies as (
        select bit, field, term, sum(len(article_ids)) as df
        from matched_rows
        group by bit, field, term
    ),
    postings as (
        select m.bit, m.kind, m.words, m.term, m.run_id, m.field, f.df,
               unnest(m.article_ids) as article_id, unnest(m.counts) as tf
        from matched_rows as m
        inner join frequencies as f using (bit, field, term)
    ),
    -- The matched articles in the window. The IN sits inside an expression on purpose: DuckDB then hashes
    -- the postings' few thousand ids and streams the articles past them. Joined directly, or with a bare
    -- IN, it hashed all the articles instead (0.11-0.15 s of a query at 1,000,000 articles).
    hit_articles as (
        select article_id, run_id, word_count
        from articles
        where coalesce(article_id in (select article_id from postings), false)
          and search_scope(published_at, run_id, since, until, in_run)
    ),
    -- A posting counts only while its run still holds the article (a rerun or reprocess moves articles).
    live as (
        select p.*, s.word_count
        from postings as p
        inner join hit_articles as s on s.article_id = p.article_id and s.run_id = p.run_id
    ),
    leaf_hits as (
        select bit, article_id, any_value(kind) as kind, any_value(words) as words, any_value(run_id) as run_id,
               sum(tf) as tf, max(df) as df, any_value(word_count) as word_count, count(*) as found
        from live
        group by bit, article_id
    ),
    -- A phrase: its words one after another (stopwords skipped), in the articles that hold them all. The
    -- index's positions of each word, less the word's place in the phrase, give where the phrase would
    -- start: it is there when every word of the phrase gives that start. No article text is read.
    phrase_candidates as (
        select bit, article_id, run_id, tf, df, word_count, words
        from leaf_hits
        where kind = 'words' and len(words) > 1 and found = len(list_distinct(words))
    ),
    phrase_words as (
        select bit, run_id, words, article_ids, positions,
               unnest(list_filter(range(1, len(words) + 1), i -> words[i] = term)) as place
        from matched_rows
        where positions is not null
    ),
    phrase_postings as (
        select bit, run_id, words, place, unnest(article_ids) as article_id, unnest(positions) as positions
        from phrase_words
    ),
    phrase_starts as (
        select p.bit, p.article_id, len(p.words) as size, p.place, unnest(p.positions) - p.place as start
        from phrase_postings as p
        inner join phrase_candidates as c using (bit, article_id, run_id)
    ),
    phrase_hits as (
        select distinct bit, article_id
        from phrase_starts
        group by bit, article_id, size, start
        having count(distinct place) = size
    ),
    word_hits as (
        select bit, article_id, tf, df, word_count
        from leaf_hits
        where kind = 'prefix' or len(words) = 1
        union all
        select c.bit, c.article_id, c.tf, c.df, c.word_count
        from phrase_candidates as c
        inner join phrase_hits using (bit, article_id)
    ),
    field_hits as (
        select l.bit, s.article_id
        from (select * from leaves where leaf.kind in ('source', 'lang')) as l
        inner join articles as s
            on (l.leaf.kind = 'source' and (lower(s.source) = l.leaf.value or lower(s.source) like '%.' || l.leaf.value))
            or (l.leaf.kind = 'lang' and lower(s.language) = l.leaf.value)
        where search_scope(s.published_at, s.run_id, since, until, in_run)
    ),
    stats as (
        select count(*) as n, avg(word_count) as avg_words from articles
        where search_scope(published_at, run_id, since, until, in_run)
    ),
    scored as (
        select bit, article_id,
               ln(1 + (stats.n - df + 0.5) / (df + 0.5)) * tf * 2.2
                 / (tf + 1.2 * (0.25 + 0.75 * coalesce(word_count, 0) / greatest(stats.avg_words, 1))) as score
        from word_hits, stats
        union all
        select bit, article_id, 0.0 from field_hits
    ),
    masks as (
        select article_id, bit_or(1 << bit) as mask, sum(score) as score
        from scored
        group by article_id
    )
    select m.article_id, m.score
    from masks as m, plan
    where plan.failed is null and plan.truth[m.mask + 1]
    union all
    -- A query that matches an article with none of its leaves (NOT football) also matches all the rest.
    select s.article_id, 0.0
    from articles as s, plan
    where plan.failed is null and plan.truth[1] and s.article_id not in (select article_id from masks)
      and search_scope(s.published_at, s.run_id, since, until, in_run);

-- search_attention(q, since, until, per): Media Cloud's normalised attention. Per period (per 'day',
-- 'week', 'source', 'language' or 'country', a country the story names through its places), the stories
-- that match and all stories, a syndicated story counted once, and the share that matched.
create or replace macro search_attention(q, since, until, per := 'day') as table
    with
    matched as (
        select article_id from search(q, since := since, until := until)
    ),
    copies as (
        select a.article_id, coalesce(a.duplicate_of, a.article_id) as story_id, a.published_at, a.source,
               a.language, m.article_id is not null as hit
        from articles as a
        left join matched as m using (article_id)
        where a.published_at >= since and a.published_at < until
    ),
    keyed as (
        select story_id, hit, case per
            when 'day' then strftime(published_at, '%Y-%m-%d')
            when 'week' then strftime(date_trunc('week', published_at), '%G-W%V')
            when 'source' then source
            when 'language' then coalesce(language, 'und')
        end as period
        from copies
        where per in ('day', 'week', 'source', 'language')
        union all
        select distinct c.story_id, c.hit, e.country_code
        from copies as c
        inner join mentions as mn using (article_id)
        inner join entities as e using (entity_id)
        where per = 'country' and e.type = 'LOCATION' and e.country_code is not null
        union all
        select null, false, error('search_attention: per must be day, week, source, language or country')
        where per not in ('day', 'week', 'source', 'language', 'country')
    )
    select period, count(distinct story_id) filter (where hit) as stories, count(distinct story_id) as all_stories,
           round(count(distinct story_id) filter (where hit) / count(distinct story_id), 4) as share
    from keyed
    group by period
    order by period;
