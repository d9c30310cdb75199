-- Stations registry, the readings hypertable, rejects, hourly rollups and the reader role.
-- Works on the Apache edition of TimescaleDB; uses continuous aggregates and the retention
-- policy only where timescaledb.license = 'timescale' (docs/operations.md, "Storage").

CREATE EXTENSION IF NOT EXISTS timescaledb;

CREATE TABLE zones (
    id           text PRIMARY KEY,
    network      text NOT NULL,
    name         text NOT NULL,
    municipality text NOT NULL DEFAULT ''
);

CREATE TABLE stations (
    id                  text PRIMARY KEY,
    network             text NOT NULL,
    zone_id             text NOT NULL REFERENCES zones (id),
    name                text NOT NULL,
    lat                 double precision NOT NULL,
    lon                 double precision NOT NULL,
    elevation_m         real NOT NULL,
    slope_deg           real NOT NULL,
    soil_depth_m        real NOT NULL,   -- vertical depth to the potential failure plane
    cohesion_kpa        real NOT NULL,
    friction_deg        real NOT NULL,
    unit_weight_knm3    real NOT NULL,
    vwc_residual        real NOT NULL,
    vwc_saturated       real NOT NULL,
    sensor_depths_m     real[] NOT NULL,
    expected_interval_s real NOT NULL DEFAULT 900,
    status              text NOT NULL DEFAULT 'active'
                        CHECK (status IN ('active', 'maintenance', 'retired')),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stations_zone_idx ON stations (zone_id);

-- One row per (station, quantity, device time): a re-sent reading is stored once, because a
-- duplicated rain reading would double-count rainfall and raise a false alarm.
CREATE TABLE readings (
    station_id  text NOT NULL,
    quantity    text NOT NULL,
    ts          timestamptz NOT NULL,          -- device time
    value       double precision NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),  -- when ingest received it: ts far behind = backfill
    PRIMARY KEY (station_id, quantity, ts)
);
SELECT create_hypertable('readings', 'ts', chunk_time_interval => INTERVAL '1 day');

CREATE TABLE rejects (
    id           bigserial PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    topic        text NOT NULL,
    station_id   text,
    reason       text NOT NULL,
    detail       text NOT NULL,
    record_index integer NOT NULL DEFAULT -1,  -- -1: the whole message
    raw          bytea NOT NULL,
    message_hash bytea NOT NULL,               -- a redelivered message is recorded once
    UNIQUE (message_hash, record_index)
);
CREATE INDEX rejects_received_idx ON rejects (received_at);
CREATE INDEX rejects_reason_idx ON rejects (reason, received_at);

-- Hourly rollups: sum for rain, mean/min/max for the rest.
DO $$
BEGIN
    IF current_setting('timescaledb.license', true) = 'timescale' THEN
        EXECUTE $v$
            CREATE MATERIALIZED VIEW readings_hourly WITH (timescaledb.continuous) AS
            SELECT station_id, quantity, time_bucket(INTERVAL '1 hour', ts) AS bucket,
                   sum(value) AS total, avg(value) AS mean, min(value) AS minimum,
                   max(value) AS maximum, count(*) AS samples
            FROM readings GROUP BY station_id, quantity, bucket WITH NO DATA
        $v$;
        PERFORM add_continuous_aggregate_policy('readings_hourly',
            start_offset => INTERVAL '30 days', end_offset => INTERVAL '1 hour',
            schedule_interval => INTERVAL '15 minutes');
    ELSE
        EXECUTE $v$
            CREATE VIEW readings_hourly AS
            SELECT station_id, quantity, time_bucket(INTERVAL '1 hour', ts) AS bucket,
                   sum(value) AS total, avg(value) AS mean, min(value) AS minimum,
                   max(value) AS maximum, count(*) AS samples
            FROM readings GROUP BY station_id, quantity, bucket
        $v$;
    END IF;
END
$$;

-- Retention: a policy where licensed; elsewhere `encosta retention` calls this function.
CREATE FUNCTION encosta_apply_retention(keep interval) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE dropped integer;
BEGIN
    SELECT count(*) INTO dropped FROM drop_chunks('readings', older_than => now() - keep);
    RETURN dropped;
END
$$;

-- Read-only role for Grafana (a login is granted by the deployment, never stored here).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'encosta_reader') THEN
        CREATE ROLE encosta_reader NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO encosta_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO encosta_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO encosta_reader;
