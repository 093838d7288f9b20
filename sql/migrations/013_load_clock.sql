-- One row that counts the loads committed. Every load adds one to it in its own transaction, so two loads
-- that overlap on a lake (NEWSMON_STORAGE=ducklake) always conflict, and the later one is rolled back and
-- done again on what the first left (store.load_run). Without it, two loads that both add the same new
-- entity or mart row would both insert it: a lake has no keys, and snapshot isolation lets both commit
-- (tests/test_lake.py saw entity_daily doubled so).
create table load_clock (loads bigint not null);
insert into load_clock values (0);
