-- One row per place and publication day: stories (a syndicated story counts once) and mentions,
-- with the place's country and coordinates.
select
    d.day,
    e.entity_id,
    e.name,
    e.country_code,
    e.latitude,
    e.longitude,
    d.mentions,
    d.stories
from entity_daily as d
inner join entities as e on e.entity_id = d.entity_id
where e.type = 'LOCATION'
