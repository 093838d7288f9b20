-- Alerts explain themselves and keep their delivery state: kind, mode, story, reason, retry schedule.
alter table alerts add column kind varchar default 'mention';
alter table alerts add column mode varchar default 'instant';
alter table alerts add column story_id varchar;
alter table alerts add column claim_id varchar;
alter table alerts add column reason json;
alter table alerts add column next_attempt_at timestamp;
alter table alerts add column delivered_at timestamp;
