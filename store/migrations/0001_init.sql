-- 0001: the run history of a SEAL workbench.
--
-- Times are TEXT in one fixed-width UTC layout (2006-01-02T15:04:05.000000000Z), so
-- they sort and compare as strings and read well in the sqlite3 shell.
-- REAL columns are nullable because SQLite stores a NaN as NULL: a diverged loss or
-- score is kept (NULL) and read back as NaN instead of failing the commit.

CREATE TABLE runs (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL DEFAULT '',
    domain     TEXT    NOT NULL DEFAULT '',
    model      TEXT    NOT NULL DEFAULT '',
    status     TEXT    NOT NULL CHECK (status IN ('running', 'paused', 'done', 'failed', 'cancelled')),
    error      TEXT    NOT NULL DEFAULT '',
    config     TEXT,                                   -- the full RunSpec as JSON
    parent_id  INTEGER REFERENCES runs (id) ON DELETE SET NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);
CREATE INDEX runs_created ON runs (created_at DESC, id DESC);
CREATE INDEX runs_domain ON runs (domain, created_at DESC);
CREATE INDEX runs_model ON runs (model, created_at DESC);
CREATE INDEX runs_status ON runs (status, created_at DESC);
CREATE INDEX runs_parent ON runs (parent_id);

CREATE TABLE tasks (
    run_id    INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    key       TEXT    NOT NULL DEFAULT '',
    title     TEXT    NOT NULL DEFAULT '',
    context   TEXT    NOT NULL DEFAULT '',
    questions TEXT    NOT NULL DEFAULT '[]',           -- JSON array of {question, answer}
    PRIMARY KEY (run_id, idx)
) WITHOUT ROWID;

CREATE TABLE candidates (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    round         INTEGER NOT NULL,
    task          INTEGER NOT NULL,
    idx           INTEGER NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind <> ''),
    prompt        TEXT    NOT NULL DEFAULT '',
    edit          TEXT    NOT NULL DEFAULT '',
    tokens        INTEGER NOT NULL DEFAULT 0,
    sampling      TEXT,                                -- JSON
    seed          INTEGER NOT NULL DEFAULT 0,          -- uint64 bit pattern
    status        TEXT    NOT NULL CHECK (status IN ('done', 'invalid')),
    reason        TEXT    NOT NULL DEFAULT '',
    base_score    REAL,
    adapted_score REAL,
    reward        REAL,
    reward_std    REAL,
    repeats       INTEGER NOT NULL DEFAULT 0,
    adapter_path  TEXT    NOT NULL DEFAULT '',
    adapter_hash  TEXT    NOT NULL DEFAULT '',
    created_at    TEXT    NOT NULL,
    CHECK (status <> 'invalid' OR reason <> '')
);
-- The resume key; also serves "candidates of a run in order" and Finished.
CREATE UNIQUE INDEX candidates_key ON candidates (run_id, round, task, idx);
CREATE INDEX candidates_run_created ON candidates (run_id, created_at);

CREATE TABLE train_points (
    candidate_id INTEGER NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,                     -- position in the curve
    step         INTEGER NOT NULL,
    loss         REAL,
    lr           REAL,
    PRIMARY KEY (candidate_id, seq)
) WITHOUT ROWID;

CREATE TABLE eval_items (
    candidate_id INTEGER NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,                     -- position in the list
    repeat       INTEGER NOT NULL,
    question     INTEGER NOT NULL,
    prompt       TEXT    NOT NULL DEFAULT '',
    text         TEXT    NOT NULL DEFAULT '',
    gold         TEXT    NOT NULL DEFAULT '',
    correct      INTEGER NOT NULL CHECK (correct IN (0, 1)),
    score        REAL,
    grader       TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (candidate_id, seq)
) WITHOUT ROWID;

-- Reviews are appended, never updated: the one with the highest id is the verdict.
CREATE TABLE reviews (
    id           INTEGER PRIMARY KEY,
    candidate_id INTEGER NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
    verdict      TEXT    NOT NULL CHECK (verdict IN ('approve', 'reject')),
    reason       TEXT    NOT NULL DEFAULT '',
    source       TEXT    NOT NULL DEFAULT '',
    edited       TEXT    NOT NULL DEFAULT '',
    at           TEXT    NOT NULL,
    CHECK (verdict <> 'reject' OR reason <> '')
);
CREATE INDEX reviews_candidate ON reviews (candidate_id, id);

CREATE TABLE rounds (
    run_id              INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    round               INTEGER NOT NULL,
    mean_reward         REAL,
    std_reward          REAL,
    kept                INTEGER NOT NULL DEFAULT 0,
    policy_adapter_path TEXT    NOT NULL DEFAULT '',
    policy_hash         TEXT    NOT NULL DEFAULT '',
    train_loss          REAL,
    at                  TEXT    NOT NULL,
    PRIMARY KEY (run_id, round)
) WITHOUT ROWID;

CREATE TABLE retention (
    run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step     INTEGER NOT NULL,
    task     INTEGER NOT NULL,
    accuracy REAL,
    PRIMARY KEY (run_id, step, task)
) WITHOUT ROWID;

CREATE TABLE metrics (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name   TEXT    NOT NULL CHECK (name <> ''),
    value  REAL,
    PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
