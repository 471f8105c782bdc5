-- Content-addressed tensor bytes. A blob is identified by the SHA-256 of its bytes and stored
-- once however many versions use it; its bytes are split into chunks of at most 4 MiB so no
-- SQLite limit is reached and memory stays bounded while reading or writing.
CREATE TABLE tensorBlob (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),
    byteCount INTEGER NOT NULL CHECK (byteCount >= 0),
    chunkCount INTEGER NOT NULL CHECK (chunkCount >= 0)
) STRICT;

CREATE TABLE tensorChunk (
    blobId INTEGER NOT NULL REFERENCES tensorBlob(id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 0),
    bytes BLOB NOT NULL,
    PRIMARY KEY (blobId, position)
) STRICT, WITHOUT ROWID;

-- The tensors of a version, in file order (position), each pointing at its blob.
CREATE TABLE versionTensor (
    versionId INTEGER NOT NULL REFERENCES modelVersion(id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 0),
    name TEXT NOT NULL,
    dtype TEXT NOT NULL,
    shape TEXT NOT NULL,
    blobId INTEGER NOT NULL REFERENCES tensorBlob(id),
    PRIMARY KEY (versionId, position),
    UNIQUE (versionId, name)
) STRICT, WITHOUT ROWID;
CREATE INDEX versionTensor_blob ON versionTensor(blobId);
