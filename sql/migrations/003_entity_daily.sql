-- A mart kept current by every load: stories and mentions per entity and publication day (first copies
-- only), so trend views read thousands of rows instead of scanning every mention.
create table entity_daily (
    day date not null,
    entity_id varchar not null,
    mentions integer not null,
    stories integer not null,
    primary key (day, entity_id)
);

insert into entity_daily
select
    cast(a.published_at as date) as day,
    m.entity_id,
    count(*) as mentions,
    count(distinct m.article_id) as stories
from mentions as m
inner join articles as a on a.article_id = m.article_id
where a.duplicate_of is null and a.published_at is not null
group by all;
