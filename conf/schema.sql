-- vms PostgreSQL schema.  Idempotent: run at every start (vmsd's
-- postgres_schema option, tests/tools/vmsstack.py); each component appends
-- its own tables below with CREATE … IF NOT EXISTS.

-- Cameras as configured in vmsd (upserted at start and at each reload).
CREATE TABLE IF NOT EXISTS cameras (
    id              text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
    enabled         boolean NOT NULL DEFAULT true,
    record          boolean NOT NULL DEFAULT true,
    retention_days  integer NOT NULL DEFAULT 7 CHECK (retention_days >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- Cluster (docs/scale-out.md): the vms.cameras record (config) mirrored by the
-- owner of its partition, and who runs the camera since when under which
-- fencing token.  A tombstone deletes the row.
ALTER TABLE cameras ADD COLUMN IF NOT EXISTS config jsonb;
ALTER TABLE cameras ADD COLUMN IF NOT EXISTS node text;
ALTER TABLE cameras ADD COLUMN IF NOT EXISTS state text;
ALTER TABLE cameras ADD COLUMN IF NOT EXISTS since timestamptz;
ALTER TABLE cameras ADD COLUMN IF NOT EXISTS fencing_token bigint;

-- A mirror of the segment index: one row per closed segment, written by
-- vmsd after the segment was fsynced and indexed.  Retried inserts are
-- harmless (unique camera_id, start_time).
CREATE TABLE IF NOT EXISTS recordings (
    id          bigserial PRIMARY KEY,
    camera_id   text NOT NULL,
    start_time  timestamptz NOT NULL,
    end_time    timestamptz NOT NULL,
    path        text NOT NULL,
    bytes       bigint NOT NULL CHECK (bytes >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (camera_id, start_time),
    CHECK (end_time >= start_time)
);
CREATE INDEX IF NOT EXISTS recordings_camera_time
    ON recordings (camera_id, start_time DESC);

-- Audit log of POST/PUT/PATCH/DELETE through vms_auth (Kafka vms.audit ->
-- vms-audit-consumer).  event_id is the record's random id: re-delivered
-- records are stored once.  raw keeps the record as produced.
CREATE TABLE IF NOT EXISTS audit_log (
    id          bigserial PRIMARY KEY,
    event_id    text NOT NULL UNIQUE,
    ts          timestamptz NOT NULL,
    user_id     text,
    action      text NOT NULL,
    resource    text NOT NULL,
    status      integer NOT NULL,
    ip          text,
    trace_id    text,
    tenant_id   text,
    raw         jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS audit_log_ts ON audit_log (ts DESC);
CREATE INDEX IF NOT EXISTS audit_log_user_ts ON audit_log (user_id, ts DESC);

-- AI pipeline (docs/ai.md).  One row per DetectionResult; id is
-- "<trace_id>-<n>", so a re-sent insert is stored once.  bbox in full-frame
-- source pixels (NULL for an image-level label).
CREATE TABLE IF NOT EXISTS detection_results (
    id          text PRIMARY KEY,
    camera_id   text NOT NULL,
    ts          timestamptz NOT NULL,
    provider    text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('label', 'face', 'text')),
    label       text NOT NULL,
    confidence  real NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    bbox_x      integer,
    bbox_y      integer,
    bbox_w      integer,
    bbox_h      integer,
    attributes  jsonb NOT NULL DEFAULT '{}',
    snapshot    text,
    trace_id    text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS detection_results_camera_ts
    ON detection_results (camera_id, ts DESC);

-- Daily AI calls and cost per camera, provider and API (UTC days); vmsd adds
-- each priced call as it happens.
CREATE TABLE IF NOT EXISTS ai_costs (
    camera_id   text NOT NULL,
    day         date NOT NULL,
    provider    text NOT NULL,
    api         text NOT NULL,
    calls       bigint NOT NULL DEFAULT 0,
    cost_usd    numeric(14, 6) NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (camera_id, day, provider, api)
);

-- Review events (docs/events.md): one camera's detections grouped, written
-- by vms-detections-consumer in the transaction of the detection that
-- opened or extended it.  id is the first detection's id, so a replay
-- rebuilds the same event.
CREATE TABLE IF NOT EXISTS review_events (
    id                  text PRIMARY KEY,
    camera_id           text NOT NULL,
    start_ts            timestamptz NOT NULL,
    end_ts              timestamptz NOT NULL,
    labels              text[] NOT NULL DEFAULT '{}',
    max_score           real NOT NULL DEFAULT 0,
    detections          integer NOT NULL DEFAULT 0,
    snapshot_detection  text,
    snapshot            text,
    state               text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (end_ts >= start_ts)
);
CREATE INDEX IF NOT EXISTS review_events_camera_start
    ON review_events (camera_id, start_ts DESC, id DESC);
CREATE INDEX IF NOT EXISTS review_events_start
    ON review_events (start_ts DESC, id DESC);

-- Alert outbox: an event fires a rule once (primary key); published turns
-- true when Kafka acknowledged the alert, unpublished rows are produced
-- again when the consumer starts.
CREATE TABLE IF NOT EXISTS review_alerts (
    event_id    text NOT NULL,
    rule        text NOT NULL,
    alert       jsonb NOT NULL,
    published   boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, rule)
);

-- Users who sign in with a password (docs/users.md): vms-user writes them,
-- vms-login reads them.  password_hash is an argon2id PHC string.
CREATE TABLE IF NOT EXISTS users (
    id                      bigserial PRIMARY KEY,
    username                text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9._@-]{1,64}$'),
    password_hash           text NOT NULL,
    role                    text NOT NULL DEFAULT 'viewer' CHECK (role IN ('viewer', 'operator', 'admin')),
    plan                    text,
    max_concurrent_streams  integer CHECK (max_concurrent_streams >= 0),
    cameras                 text[],
    tenant                  text,
    disabled                boolean NOT NULL DEFAULT false,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    password_changed_at     timestamptz NOT NULL DEFAULT now()
);

-- A sign-in's refresh-token chain: refresh_hash is SHA-256 of the current
-- refresh token; each refresh replaces it.  last_jti/last_exp name the
-- newest access token, revoked in Redis at logout.
CREATE TABLE IF NOT EXISTS auth_sessions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_hash  bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    last_used_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    last_jti      text,
    last_exp      timestamptz
);
CREATE INDEX IF NOT EXISTS auth_sessions_user ON auth_sessions (user_id);

-- Refresh tokens already spent (SHA-256): one presented again revokes its
-- session (someone kept a copy).
CREATE TABLE IF NOT EXISTS auth_refresh_spent (
    refresh_hash  bytea PRIMARY KEY,
    session_id    uuid NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
    spent_at      timestamptz NOT NULL DEFAULT now()
);

-- Failed sign-ins per user name (SHA-256 of the name, known or not) in the
-- current window; at login_max_failures the name gets 429 until it ends.
CREATE TABLE IF NOT EXISTS login_failures (
    name_hash     bytea PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    failures      integer NOT NULL
);
