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
