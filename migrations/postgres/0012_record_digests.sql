-- Record digests are computed in Swift from here on (RecordDigests in RegistryStore), as on
-- SQLite (migration 0012 there). After this file, the migration's Swift step rewrites every
-- stored digest in the new form: PostgreSQL stores before 0012 were only ever written by
-- `fusebox copy`, which verified every row against its source.
COMMENT ON COLUMN modelVersion.recordDigest IS 'RecordDigests.version (schema 0012)';
