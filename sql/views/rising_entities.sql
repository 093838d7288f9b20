-- One row per entity and day it was in a story: that day's stories against its previous 14 days (days
-- without stories count as zero), as a ratio and a z-score. Filter on day and sort by ratio.
with

today as (
    select
        day,
        entity_id,
        stories
    from entity_daily
),

baseline as (
    select
        t.day,
        t.entity_id,
        t.stories,
        coalesce(sum(p.stories), 0) / 14.0 as mean,
        coalesce(sum(p.stories * p.stories), 0) / 14.0 as mean_square
    from today as t
    left join entity_daily as p
        on p.entity_id = t.entity_id
        and p.day >= t.day - interval 14 days
        and p.day < t.day
    group by t.day, t.entity_id, t.stories
)

select
    b.day,
    b.entity_id,
    e.name,
    e.type,
    b.stories,
    round(b.mean, 2) as baseline_mean,
    round(b.stories / greatest(b.mean, 0.5), 2) as ratio,
    round((b.stories - b.mean) / greatest(sqrt(greatest(b.mean_square - b.mean * b.mean, 0)), 1.0), 2) as z_score
from baseline as b
inner join entities as e on e.entity_id = b.entity_id
