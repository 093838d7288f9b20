-- Where each word stands in each article (its places among the article's words, stopwords dropped), so a
-- phrase is checked in the index instead of by re-reading and re-stemming the articles' text: at
-- 1,000,000 articles that took a phrase query 0.95 s (README, Performance: search). The rows written before
-- have no positions, so the whole index is built again: search_runs emptied, searchindex.repair re-indexes
-- every run when the database is next opened for writing.
alter table search_postings add column positions integer[][];
delete from search_postings;
delete from search_runs;
