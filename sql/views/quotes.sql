-- One row per quote or statement with its speaker and article: what X said, where and when.
-- A syndicated copy's quotes are left out (the first copy has them).
select
    c.claim_id,
    c.kind,
    c.speaker_entity_id,
    e.name as speaker_name,
    c.speaker as speaker_as_written,
    c.cue,
    c.text,
    a.article_id,
    a.title,
    a.url,
    a.source,
    a.published_at
from claims as c
inner join articles as a on a.article_id = c.article_id
left join entities as e on e.entity_id = c.speaker_entity_id
where c.kind in ('quote', 'statement') and a.duplicate_of is null
