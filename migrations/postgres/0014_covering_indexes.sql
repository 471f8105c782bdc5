-- PostgreSQL only (SQLite's next migration takes the number 0015).
-- SQLite's secondary indexes end with the row's primary key, so a search's matching set
-- (`r.id IN (SELECT runId FROM runParam WHERE key = ? AND value = ?)`) is read from the index
-- alone. PostgreSQL's point at heap tuples instead: every match cost a heap fetch, a random page
-- at a million runs. Carrying runId makes these subqueries index-only scans, which the ordered
-- walk of a metric joins with its candidates (Registry.orderedWalk).
DROP INDEX runParam_text;
CREATE INDEX runParam_text ON runParam(key, value) INCLUDE (runId);
DROP INDEX runParam_number;
CREATE INDEX runParam_number ON runParam(key, number) INCLUDE (runId) WHERE number IS NOT NULL;
DROP INDEX runTag_value;
CREATE INDEX runTag_value ON runTag(key, value) INCLUDE (runId);
DROP INDEX latestMetric_value;
CREATE INDEX latestMetric_value ON latestMetric(keyId, value) INCLUDE (runId);
