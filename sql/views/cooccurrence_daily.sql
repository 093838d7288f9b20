-- One row per actor (person or organisation), place and day: the stories that mention both.
with

stories as (
    select
        article_id,
        cast(published_at as date) as day
    from articles
    where duplicate_of is null
),

present as (
    select distinct
        s.day,
        m.article_id,
        m.entity_id,
        e.type
    from stories as s
    inner join mentions as m on m.article_id = s.article_id
    inner join entities as e on e.entity_id = m.entity_id
)

select
    actor.day,
    actor.entity_id as actor_id,
    ae.name as actor,
    ae.type as actor_type,
    place.entity_id as place_id,
    pe.name as place,
    pe.country_code,
    count(*) as stories
from present as actor
inner join present as place
    on place.article_id = actor.article_id
    and place.day = actor.day
    and place.type = 'LOCATION'
inner join entities as ae on ae.entity_id = actor.entity_id
inner join entities as pe on pe.entity_id = place.entity_id
where actor.type in ('PERSON', 'ORG')
group by all
