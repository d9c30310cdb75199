-- The 15-minute rollup of readings, maintained by ingest in the same transaction as the
-- readings it summarises (docs/alerts.md, "Incremental evaluation"): one row per (station,
-- quantity, 15-minute bucket) with the sum (rain), the count, and the newest value (soil
-- moisture). Every change stamps the row with the writing transaction's id (xid8), so the
-- evaluator reads exactly the rows committed since its previous snapshot
-- (pg_visible_in_snapshot), late and re-sent data included, instead of re-reading the window.
-- Works on both TimescaleDB editions: a hypertable the project maintains, not a continuous
-- aggregate (those cannot say which buckets changed since a snapshot).
CREATE TABLE readings_15m (
    station_id text NOT NULL,
    quantity   text NOT NULL,
    bucket     timestamptz NOT NULL,                -- start of the 15-minute bucket
    total      double precision NOT NULL,           -- sum of the bucket's values
    samples    integer NOT NULL,                    -- readings in the bucket
    last_ts    timestamptz NOT NULL,                -- newest device time in the bucket
    last_value double precision NOT NULL,           -- the value at last_ts
    xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),  -- the last writer's transaction
    PRIMARY KEY (station_id, quantity, bucket)
);
SELECT create_hypertable('readings_15m', 'bucket', chunk_time_interval => INTERVAL '7 days');
CREATE INDEX readings_15m_xid_idx ON readings_15m (xid);

-- Recompute the rollup of [since, until) from readings: for readings written by anything but
-- ingest (a bulk load, a manual correction by the owner). Only rows that differ are written,
-- so the evaluator re-reads only what really changed. Returns the rows written.
CREATE FUNCTION encosta_refresh_rollup(
    since timestamptz DEFAULT '1970-01-01', until timestamptz DEFAULT 'infinity'
) RETURNS bigint
LANGUAGE sql AS $$
    WITH agg AS (
        SELECT station_id, quantity, time_bucket(INTERVAL '15 minutes', ts) AS bucket,
               sum(value) AS total, count(*)::int AS samples, max(ts) AS last_ts,
               last(value, ts) AS last_value
        FROM readings
        WHERE ts >= time_bucket(INTERVAL '15 minutes', since) AND ts < until
        GROUP BY 1, 2, 3
    ), written AS (
        INSERT INTO readings_15m AS r (station_id, quantity, bucket, total, samples, last_ts,
                                       last_value)
        SELECT * FROM agg
        ON CONFLICT (station_id, quantity, bucket) DO UPDATE SET
            total = EXCLUDED.total, samples = EXCLUDED.samples, last_ts = EXCLUDED.last_ts,
            last_value = EXCLUDED.last_value, xid = pg_current_xact_id()
        WHERE (r.total, r.samples, r.last_ts, r.last_value)
              IS DISTINCT FROM (EXCLUDED.total, EXCLUDED.samples, EXCLUDED.last_ts,
                                EXCLUDED.last_value)
        RETURNING 1
    )
    SELECT count(*) FROM written
$$;
REVOKE EXECUTE ON FUNCTION encosta_refresh_rollup(timestamptz, timestamptz) FROM PUBLIC;

-- What is stored already (an existing deployment): summarised once, here.
SELECT encosta_refresh_rollup();

-- Retention drops the rollup's chunks with the readings'.
CREATE OR REPLACE FUNCTION encosta_apply_retention(keep interval) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE dropped integer;
BEGIN
    SELECT count(*) INTO dropped FROM drop_chunks('readings', older_than => now() - keep);
    PERFORM drop_chunks('readings_15m', older_than => now() - keep);
    RETURN dropped;
END
$$;
REVOKE EXECUTE ON FUNCTION encosta_apply_retention(interval) FROM PUBLIC;

-- Least privilege (0005): ingest maintains the rollup; the evaluator, the API and Grafana read.
GRANT SELECT, INSERT, UPDATE ON readings_15m TO encosta_ingest;
GRANT SELECT ON readings_15m TO encosta_alerts, encosta_api, encosta_reader;
