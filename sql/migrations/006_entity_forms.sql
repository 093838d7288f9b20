-- How often each entity was named each way (first copies and duplicates alike, as entity names always
-- were): loads keep it current by adding the new mentions and subtracting the replaced ones, so an
-- entity's name and aliases are recomputed from a few rows instead of a scan of every mention.
create table entity_forms (
    entity_id varchar not null,
    form varchar not null,
    surface varchar not null,
    mentions integer not null,
    primary key (entity_id, form, surface)
);

insert into entity_forms
select entity_id, form, regexp_replace(surface, '\s+', ' ', 'g') as surface, count(*) as mentions
from mentions
group by all;
