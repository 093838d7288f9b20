-- What X said about Y: one row per claim, speaker and entity mentioned inside the claim.
select
    q.speaker_entity_id,
    q.speaker_name,
    ce.entity_id as about_entity_id,
    e.name as about_name,
    e.type as about_type,
    q.claim_id,
    q.text,
    q.title,
    q.url,
    q.published_at
from quotes as q
inner join claim_entities as ce on ce.claim_id = q.claim_id and ce.role = 'mentioned'
inner join entities as e on e.entity_id = ce.entity_id
where q.speaker_entity_id is not null
