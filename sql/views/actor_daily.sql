-- One row per entity and publication day: mentions, and distinct stories (a syndicated copy counts
-- once). Undated articles are not in daily views.
select
    d.day,
    e.entity_id,
    e.name,
    e.type,
    e.country_code,
    e.latitude,
    e.longitude,
    d.mentions,
    d.stories
from entity_daily as d
inner join entities as e on e.entity_id = d.entity_id
