-- Registered models: a name and a kind. A model owns its versions, aliases and alias events.
CREATE TABLE model (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
    kind TEXT NOT NULL CHECK (kind IN ('fused', 'component')),
    description TEXT NOT NULL DEFAULT '',
    createdAt REAL NOT NULL
) STRICT;
