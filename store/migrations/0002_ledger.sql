-- 0002: the edit ledger. Every weight change the engine commits (a merged continual
-- step, a ReST-EM policy update) and every one it held or rejected is a row. A row with
-- status 'committed' is a model version: its parent's version plus its adapter. The
-- root of a tree is a 'base' row: the model folder, by content hash. Rows are appended;
-- only a held row's status (and review) changes, once, when a person decides.

CREATE TABLE ledger (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    parent_id    INTEGER REFERENCES ledger (id),
    kind         TEXT    NOT NULL CHECK (kind IN ('base', 'continual', 'policy')),
    step         INTEGER NOT NULL DEFAULT 0,          -- continual task index or ReST-EM round
    status       TEXT    NOT NULL CHECK (status IN ('committed', 'held', 'rejected')),
    base_hash    TEXT    NOT NULL DEFAULT '',
    adapter_path TEXT    NOT NULL DEFAULT '',
    adapter_hash TEXT    NOT NULL DEFAULT '',
    merged       INTEGER NOT NULL DEFAULT 1 CHECK (merged IN (0, 1)),
    fingerprint  TEXT    NOT NULL DEFAULT '',          -- sha256 of the version's logits on a fixed input
    candidate_id INTEGER REFERENCES candidates (id) ON DELETE SET NULL,
    source       TEXT    NOT NULL DEFAULT '',          -- the task (title) the edit came from
    edit         TEXT    NOT NULL DEFAULT '',
    reward       REAL,
    review       TEXT    NOT NULL DEFAULT '',          -- '', 'approve', 'reject', 'auto'
    guard        TEXT,                                 -- JSON: the guard's verdict and numbers
    reason       TEXT    NOT NULL DEFAULT '',
    at           TEXT    NOT NULL,
    CHECK (kind <> 'base' OR (parent_id IS NULL AND base_hash <> '')),
    CHECK (kind = 'base' OR adapter_hash <> '')
);
CREATE UNIQUE INDEX ledger_step ON ledger (run_id, kind, step);
CREATE INDEX ledger_parent ON ledger (parent_id);
