-- One row per entity: the day and story in which it was first mentioned.
with

firsts as (
    select
        m.entity_id,
        arg_min(a.article_id, a.published_at) as first_article_id,
        min(a.published_at) as first_seen_at
    from mentions as m
    inner join articles as a on a.article_id = m.article_id
    where a.published_at is not null
    group by m.entity_id
)

select
    cast(f.first_seen_at as date) as day,
    f.first_seen_at,
    e.entity_id,
    e.name,
    e.type,
    a.title as first_title,
    a.url as first_url
from firsts as f
inner join entities as e on e.entity_id = f.entity_id
inner join articles as a on a.article_id = f.first_article_id
