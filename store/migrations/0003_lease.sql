-- 0003: an owner lease per run. The process executing a run is its owner: pid, host
-- and a random token, and the time until which its lease holds (renewed by its
-- heartbeat). A run whose row says running but whose lease has expired (or whose owner
-- is a dead process on this host) was interrupted: readers show it as 'interrupted'
-- (derived, never stored), and `seal resume` may take it over. Every write of a run's
-- results checks the token inside its transaction, so a process that lost the lease
-- cannot write over the new owner's results. Runs from before have no owner: a stored
-- 'running' of theirs reads as interrupted.

ALTER TABLE runs ADD COLUMN owner_pid   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN owner_host  TEXT    NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN owner_token TEXT    NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN lease_until TEXT    NOT NULL DEFAULT '';
