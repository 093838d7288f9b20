-- One row per place and publication day: stories (a syndicated story counts once) and mentions,
-- with the place's country and coordinates.
select
    day,
    entity_id,
    name,
    country_code,
    latitude,
    longitude,
    mentions,
    stories
from actor_daily
where type = 'LOCATION'
