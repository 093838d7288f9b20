-- Who a claim is by and whom it mentions: role 'speaker' for its resolved speaker, 'mentioned' for
-- every entity mentioned inside the claim's span (the speaker excepted), so "X about Y" is one join.
with

speakers as (
    select
        claim_id,
        speaker_entity_id as entity_id,
        'speaker' as role
    from claims
    where speaker_entity_id is not null
),

mentioned as (
    select distinct
        c.claim_id,
        m.entity_id,
        'mentioned' as role
    from claims as c
    inner join mentions as m
        on m.article_id = c.article_id
        and m.start_char >= c.start_char
        and m.end_char <= c.end_char
    where m.entity_id is distinct from c.speaker_entity_id
)

select * from speakers
union all
select * from mentioned
