-- What a reprocess needs besides the page to rebuild an article as the run did: the language the
-- source declares (the prior of language identification), and the feed entry's own text, kept as the
-- article where the page could not be had or held no article (both stored under data/raw/ by digest).
alter table fetched add column language varchar;
alter table fetched add column summary_sha256 varchar;
