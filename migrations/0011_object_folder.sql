-- Blobs larger than one 4 MiB chunk live as files in the object folder beside the store
-- (`<store>-objects/ab/cdef…`, named by the SHA-256 the row records; see TensorBlobs). Such a
-- row has no tensorChunk rows. Blobs stored before this migration stay in the database.
ALTER TABLE tensorBlob ADD COLUMN inObjectFolder INTEGER NOT NULL DEFAULT 0 CHECK (inObjectFolder IN (0, 1));
