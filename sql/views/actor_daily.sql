-- One row per actor (a person or an organisation) and publication day: mentions, and distinct stories
-- (a syndicated copy counts once). Places have their own view, place_daily. Undated articles are not in
-- daily views.
select
    d.day,
    e.entity_id,
    e.name,
    e.type,
    d.mentions,
    d.stories
from entity_daily as d
inner join entities as e on e.entity_id = d.entity_id
where e.type in ('PERSON', 'ORG')
