-- Who a claim is by and whom it mentions, written by the pipeline with the claims (it was a view that
-- joined every claim with every mention of its article on each query). Role 'speaker' is the claim's
-- resolved speaker; 'mentioned' is each entity named inside the claim's span, the speaker excepted.
-- Keyed by article too, so an article's links are replaced together with its claims.
drop view if exists claim_entities;

create table claim_entities (
    claim_id varchar not null,
    article_id varchar not null,
    entity_id varchar not null,
    role varchar not null,
    primary key (claim_id, entity_id, role)
);

insert into claim_entities
select claim_id, article_id, speaker_entity_id as entity_id, 'speaker' as role
from claims
where speaker_entity_id is not null
union
select c.claim_id, c.article_id, m.entity_id, 'mentioned' as role
from claims as c
inner join mentions as m
    on m.article_id = c.article_id
    and m.start_char >= c.start_char
    and m.end_char <= c.end_char
where m.entity_id is distinct from c.speaker_entity_id;
