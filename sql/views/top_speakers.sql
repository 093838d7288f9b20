-- One row per speaker entity: how many quotes, in how many stories, and the latest quote.
select
    speaker_entity_id as entity_id,
    speaker_name as name,
    count(*) as quotes,
    count(distinct article_id) as stories,
    max(published_at) as latest_at,
    arg_max(text, published_at) as latest_quote,
    arg_max(url, published_at) as latest_url
from quotes
where speaker_entity_id is not null
group by all
