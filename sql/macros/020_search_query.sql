-- The search query language, parsed in SQL so that `newsmon search`, the watchlist's keyword rules, the
-- digest and an analyst's duckdb CLI on the published snapshot all use the one parser.
--
--   words            ceasefire gaza          every word (AND is implied)
--   "a phrase"       "port strike"           the words in that order (stopwords skipped)
--   AND, OR, NOT     (ceasefire OR truce) AND gaza NOT football
--   prefix*          negotiat*               words that start so (3 letters at least)
--   fields           title:strike  title:"bird flu"  source:example.com  lang:fr
--
-- search_plan(q) returns the leaves (each distinct word, phrase, prefix or field condition, at most 12),
-- the truth table of the boolean expression over them (entry m + 1 says whether an article matching
-- exactly the leaves in bitmask m matches the query) and the first syntax error with its position.

-- The query's tokens with their 1-based character positions (whitespace consumed, never lost, so the
-- positions add up).
create or replace macro search_lex(q) as (
    select list_transform(
        list_filter(
            list_transform(range(len(toks)), k -> {
                'pos': 1 + coalesce(list_sum(list_transform(toks[1:k], t -> length(t))), 0),
                'tok': toks[k + 1]}),
            x -> trim(x.tok) <> ''),
        (x, n) -> {'n': n, 'pos': x.pos, 'tok': x.tok})
    from (select regexp_extract_all(left(q, 1001), '\s+|[A-Za-z]+:"[^"]*"?|"[^"]*"?|\(|\)|[^\s()"]+') as toks)
);

create or replace macro search_kind(tok) as case
    when tok in ('AND', 'OR') then 'op'
    when tok = 'NOT' then 'not'
    when tok = '(' then 'open'
    when tok = ')' then 'close'
    else 'leaf'
end;

-- One leaf token: {kind: words | prefix | source | lang | none, field: text | title, words, value, error}.
-- `none` is a leaf with nothing indexable (stopwords, punctuation): search_plan drops it from the query.
create or replace macro search_leaf(tok) as (
    select case
        when field is not null and field not in ('title', 'source', 'lang') then
            {'kind': null, 'field': null, 'words': null, 'value': null,
             'error': 'unknown field ' || field || ': (fields are title:, source: and lang:)'}
        when body = '' then
            {'kind': null, 'field': null, 'words': null, 'value': null,
             'error': field || ': needs a word or a "phrase" after it'}
        when starts_with(body, '"') and (length(body) < 2 or not ends_with(body, '"')) then
            {'kind': null, 'field': null, 'words': null, 'value': null, 'error': 'the quote is not closed'}
        when field in ('source', 'lang') then
            {'kind': field, 'field': null, 'words': null, 'value': lower(trim(body, '"')), 'error': null}
        when not starts_with(body, '"') and contains(body, '*') then (
            case
                when strpos(body, '*') < length(body) then
                    {'kind': null, 'field': null, 'words': null, 'value': null,
                     'error': '* may only end a word'}
                when not regexp_full_match(lower(strip_accents(rtrim(body, '*'))), '[\p{L}\p{N}]{3,}') then
                    {'kind': null, 'field': null, 'words': null, 'value': null,
                     'error': 'a prefix needs 3 letters or digits before *'}
                else
                    {'kind': 'prefix', 'field': coalesce(field, 'text'), 'words': null,
                     'value': lower(strip_accents(rtrim(body, '*'))), 'error': null}
            end)
        when len(words) = 0 then
            {'kind': 'none', 'field': null, 'words': null, 'value': null, 'error': null}
        else
            {'kind': 'words', 'field': coalesce(field, 'text'), 'words': words, 'value': null, 'error': null}
    end
    from (
        select field, body, search_words(trim(body, '"')) as words
        from (
            select
                case when regexp_matches(tok, '^[A-Za-z]+:') then lower(regexp_extract(tok, '^([A-Za-z]+):', 1)) end
                    as field,
                case when regexp_matches(tok, '^[A-Za-z]+:') then regexp_replace(tok, '^[A-Za-z]+:', '') else tok end
                    as body
        )
    )
);

-- One reduction step of a boolean skeleton over T, F, & (and), | (or), ! (not) and parentheses; NOT binds
-- tighter than AND, AND tighter than OR. An OR chain is reduced only when it fills its parentheses (or the
-- whole query), so that an AND beside it is always reduced first.
create or replace macro search_reduce_step(s) as
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        s,
        '!!', '', 'g'),
        '!T', 'x', 'g'), '!F', 'T', 'g'), 'x', 'F', 'g'),
        '\(([TF])\)', '\1', 'g'),
        '([TF]&)*F(&[TF])*', 'F', 'g'), 'T(&T)+', 'T', 'g'),
        '\(([TF]\|)*T(\|[TF])*\)', 'T', 'g'), '\(F(\|F)*\)', 'F', 'g'),
        '^([TF]\|)*T(\|[TF])*$', 'T'), '^F(\|F)*$', 'F');

-- search_plan once nested 16 of those steps in one expression (search_reduce); now a loop.
drop macro if exists search_reduce;

create or replace macro search_plan(q) as (
    with recursive
    tokens as (
        select t.n as n, t.pos as pos, t.tok as tok, search_kind(t.tok) as kind,
               case when search_kind(t.tok) = 'leaf' then search_leaf(t.tok) end as leaf
        from (select unnest(search_lex(q)) as t)
        where length(q) <= 1000
    ),
    checked as (
        select *,
            lag(kind, 1, 'start') over (order by n) as prev,
            lag(tok, 1, '') over (order by n) = 'OR' or lead(tok, 1, '') over (order by n) = 'OR' as beside_or,
            sum(case kind when 'open' then 1 when 'close' then -1 else 0 end) over (order by n) as depth
        from tokens
    ),
    ending as (
        select
            count(*) as tokens,
            arg_max(kind, n) as kind,
            arg_max(tok, n) as tok,
            arg_max(depth, n) as depth,
            count(distinct leaf) filter (where leaf.kind <> 'none') as leaves,
            count(*) filter (where leaf.kind <> 'none') as useful
        from checked
    ),
    errors as (
        select pos, case
            when leaf.error is not null then leaf.error
            when kind = 'op' and prev not in ('leaf', 'close') then tok || ' needs a word before it'
            when kind = 'close' and depth < 0 then ') closes no ('
            when kind = 'close' and prev not in ('leaf', 'close') then 'nothing to close before )'
        end as msg
        from checked
        union all
        -- The innermost ( left open is the last one opened at the depth the query ends at.
        select (select max(pos) from checked where kind = 'open' and depth = e.depth), '( is not closed'
        from ending as e
        where e.depth > 0
        union all
        select case when length(q) > 1000 then 1001 else length(q) + 1 end, case
            when length(q) > 1000 then 'the query is longer than 1,000 characters'
            when tokens = 0 then 'the query is empty'
            when kind in ('op', 'not', 'open') then 'the query ends after ' || tok
            when leaves > 12 then 'more than 12 different words, phrases or fields'
            when useful = 0 then 'nothing to search for: stopwords and punctuation are not indexed'
        end
        from ending
    ),
    first_error as (
        select pos, msg from errors where msg is not null order by pos limit 1
    ),
    leaves as (
        select leaf, chr(96 + cast(row_number() over (order by leaf) as integer)) as letter
        from (select distinct leaf from checked where leaf.kind in ('words', 'prefix', 'source', 'lang'))
    ),
    skeleton as (
        select string_agg(
            case when kind in ('leaf', 'open', 'not') and prev in ('leaf', 'close') then '&' else '' end ||
            case kind
                when 'op' then case tok when 'AND' then '&' else '|' end
                when 'not' then '!'
                when 'open' then '('
                when 'close' then ')'
                -- A leaf with nothing indexable drops out: true beside AND, false beside OR.
                else coalesce((select letter from leaves as l where l.leaf = c.leaf),
                              case when beside_or then 'F' else 'T' end)
            end, '' order by n) as s
        from checked as c
    ),
    plan as (
        select
            (select list(leaf order by letter) from leaves) as leaves,
            (select coalesce(string_agg(letter, '' order by letter), '') from leaves) as letters,
            (select s from skeleton) as skeleton
    ),
    -- Each row of the truth table: the skeleton with the leaves of mask m true, reduced step by step
    -- until it is T or F. 16 steps are enough for 8 levels of parentheses; a skeleton still unreduced
    -- after them is refused below. A loop, rather than the 16 steps nested in one expression, which
    -- DuckDB took about 25 ms to plan on every query.
    steps as (
        select m, translate(skeleton, letters, array_to_string(
                   list_transform(range(len(letters)), b -> case when (m >> b) & 1 = 1 then 'T' else 'F' end), ''))
                   as s, 0 as i
        from (select unnest(range(1 << len(letters))) as m, skeleton, letters from plan
              where (select msg from first_error) is null)
        union all
        select m, search_reduce_step(s), i + 1
        from steps
        where s not in ('T', 'F') and i < 16
    ),
    reduced as (
        select list(s order by m) as values
        from (select m, arg_max(s, i) as s from steps group by m)
        having count(*) > 0
    ),
    verdict as (
        select coalesce(
            (select {'pos': pos, 'msg': msg} from first_error),
            (select {'pos': 1, 'msg': 'the query is nested too deeply (8 levels of parentheses at most)'}
             from reduced where list_bool_or(list_transform(values, v -> v not in ('T', 'F'))))
        ) as e
    )
    select {
        'error': e.msg,
        'position': e.pos,
        'skeleton': skeleton,
        'leaves': coalesce(leaves, []),
        'truth': case when e.msg is null then (select list_transform(values, v -> v = 'T') from reduced) end
    }
    from plan, verdict
);

-- The error of a query, with its position, or null: what `newsmon search` prints before it exits with 2.
create or replace macro search_error(q) as (
    select case when p.error is not null then 'position ' || p.position || ': ' || p.error end
    from (select search_plan(q) as p)
);
