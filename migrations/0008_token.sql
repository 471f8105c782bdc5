-- API tokens for `fusebox serve`. Only each token's SHA-256 is stored: the token itself is shown
-- once, when it is created. A revoked token stays (revokedAt set) so its name's history is kept;
-- a name can be given to a new token once the old one is revoked.
CREATE TABLE token (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    sha256 TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),
    createdAt REAL NOT NULL,
    createdBy TEXT NOT NULL,
    revokedAt REAL,
    revokedBy TEXT
) STRICT;
CREATE UNIQUE INDEX token_active_name ON token(name) WHERE revokedAt IS NULL;

-- A token's hash, scope and creation never change; only its revocation is written, once.
CREATE TRIGGER token_immutable BEFORE UPDATE OF name, scope, sha256, createdAt, createdBy ON token
BEGIN SELECT RAISE(ABORT, 'a token is immutable; revoke it and create another'); END;
CREATE TRIGGER token_revoked_once BEFORE UPDATE OF revokedAt ON token WHEN OLD.revokedAt IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'the token is already revoked'); END;
