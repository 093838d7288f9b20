-- One row per story: a first copy and its syndicated copies (near-duplicate cluster).
with

copies as (
    select
        coalesce(duplicate_of, article_id) as story_id,
        article_id,
        source,
        published_at
    from articles
),

clusters as (
    select
        story_id,
        count(*) as articles,
        count(distinct source) as sources,
        min(published_at) as first_published_at,
        list(distinct source order by source) as source_names
    from copies
    group by story_id
)

select
    c.story_id,
    a.title,
    a.url,
    a.source as first_source,
    c.first_published_at,
    c.articles,
    c.sources,
    c.source_names
from clusters as c
inner join articles as a on a.article_id = c.story_id
