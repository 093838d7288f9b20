-- One row per entity and publication day: mentions and distinct stories (a syndicated copy counts once).
with

stories as (
    select
        article_id,
        cast(published_at as date) as day
    from articles
    where duplicate_of is null
),

per_day as (
    select
        s.day,
        m.entity_id,
        count(*) as mentions,
        count(distinct m.article_id) as articles
    from mentions as m
    inner join stories as s on s.article_id = m.article_id
    group by s.day, m.entity_id
)

select
    p.day,
    e.entity_id,
    e.name,
    e.type,
    e.country_code,
    e.latitude,
    e.longitude,
    p.mentions,
    p.articles
from per_day as p
inner join entities as e on e.entity_id = p.entity_id
