-- An integer key per index row, the first 64 bits of the MD5 of field and word (macro search_key): a query
-- joins the index on it, which DuckDB filters in the scan far faster than the two strings, and the index is
-- kept in key order (searchindex.compact). At 1,000,000 articles a query's read of the index went from
-- 0.03-0.07 s to 0.01-0.03 s (README, Performance: search). The rows are rewritten in key order here, so
-- no run needs indexing again. The expression is search_key's, which macros define only after migrations.
alter table search_postings add column term_key ubigint;
create temp table search_keyed as
    select * replace (md5_number_upper(field || ' ' || term) as term_key) from search_postings;
delete from search_postings;
insert into search_postings by name select * from search_keyed order by term_key, run_id;
drop table search_keyed;

-- Every word the index has held per field, with its key: a prefix query (strik*) finds its words in these
-- few tens of thousands of rows and then reads their index rows by key, instead of comparing the prefix
-- with every index row (1.5 s a query at 1,000,000 articles). Words are only added (searchindex.repair):
-- one no run holds any more matches nothing.
create table search_terms (
    field varchar not null,
    term varchar not null,
    term_key ubigint not null
);
insert into search_terms select distinct field, term, term_key from search_postings order by field, term;
