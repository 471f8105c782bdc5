-- PostgreSQL only (SQLite's rowids never had the fault; its next migration takes the number 0014).
-- 0011 gave experiment's identity MINVALUE 0 and so, by default, START 0: the Default
-- experiment's id. The first experiment created on a new database collided with it. The
-- sequence now continues after the largest id, whatever was created or copied in before.
SELECT setval(pg_get_serial_sequence('experiment', 'id'), (SELECT max(id) FROM experiment), true);
