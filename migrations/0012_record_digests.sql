-- Record digests are computed in Swift from here on (RecordDigests in RegistryStore), from rows
-- that SQLite and PostgreSQL return alike, so a store's digests mean the same on both backends
-- and survive `fusebox copy`. Before this file runs, the migration's Swift step rewrites each
-- digest that still matches its view (so damage recorded before the upgrade stays detectable),
-- then the views, which only SQLite could compute, go.
DROP VIEW versionDigest;
DROP VIEW evaluationDigest;
DROP VIEW comparisonDigest;
DROP VIEW runDigest;
