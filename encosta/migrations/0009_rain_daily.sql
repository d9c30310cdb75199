-- Daily rain per station (readings_rain_1d), kept by ingest in the readings' transaction like
-- the 15-minute rollup (0008): the 30-day antecedent record the risk model takes
-- (models.antecedent.prior_api), served as 30 rows per station instead of 2,880 rollup rows
-- or 8,640 raw readings. Days are UTC days (time_bucket's default origin). Each change stamps
-- the writer's xid8, so the evaluator re-reads only the days that changed (late data too).
CREATE TABLE readings_rain_1d (
    station_id text NOT NULL,
    day        timestamptz NOT NULL,                -- start of the UTC day
    total      double precision NOT NULL,           -- mm of rain stored for the day
    samples    integer NOT NULL,                    -- rain readings in the day
    xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),  -- the last writer's transaction
    PRIMARY KEY (station_id, day)
);
-- One row per station-day: 10,000 stations write 3.65 M rows a year; 90-day chunks.
SELECT create_hypertable('readings_rain_1d', 'day', chunk_time_interval => INTERVAL '90 days');
CREATE INDEX readings_rain_1d_xid_idx ON readings_rain_1d (xid);

-- Recompute both rollups of [since, until) from readings (0008's function, extended).
CREATE OR REPLACE FUNCTION encosta_refresh_rollup(
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
    ), daily AS (
        INSERT INTO readings_rain_1d AS d (station_id, day, total, samples)
        SELECT station_id, time_bucket(INTERVAL '1 day', ts), sum(value), count(*)::int
        FROM readings
        WHERE quantity = 'rain_mm' AND ts >= time_bucket(INTERVAL '1 day', since) AND ts < until
        GROUP BY 1, 2
        ON CONFLICT (station_id, day) DO UPDATE SET
            total = EXCLUDED.total, samples = EXCLUDED.samples, xid = pg_current_xact_id()
        WHERE (d.total, d.samples) IS DISTINCT FROM (EXCLUDED.total, EXCLUDED.samples)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM written) + (SELECT count(*) FROM daily)
$$;
REVOKE EXECUTE ON FUNCTION encosta_refresh_rollup(timestamptz, timestamptz) FROM PUBLIC;

SELECT encosta_refresh_rollup();

-- Retention drops the rollups' chunks with the readings' (a chunk goes only when all of it is
-- older than the cutoff, so a retention of 31 days or more never drops a day of the 30-day
-- antecedent record).
CREATE OR REPLACE FUNCTION encosta_apply_retention(keep interval) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE dropped integer;
BEGIN
    SELECT count(*) INTO dropped FROM drop_chunks('readings', older_than => now() - keep);
    PERFORM drop_chunks('readings_15m', older_than => now() - keep);
    PERFORM drop_chunks('readings_rain_1d', older_than => now() - keep);
    RETURN dropped;
END
$$;
REVOKE EXECUTE ON FUNCTION encosta_apply_retention(interval) FROM PUBLIC;

-- Chunk sizing for the write rate (docs/scaling.md "TimescaleDB"): readings_15m gets a row
-- for every 5-minute reading's bucket (~49 bytes per reading, 280 MB a day at 10,000
-- stations), so 7-day chunks were 2 GB with their indexes; one day keeps the chunk being
-- written, with its indexes, well inside memory up to 100,000 stations (2.8 GB) and lets
-- retention drop by the day. Applies to chunks created from now on.
SELECT set_chunk_time_interval('readings_15m', INTERVAL '1 day');

-- Compression where licensed (the Timescale License edition; the Apache build has none): raw
-- readings and the 15-minute rollup compress once no late data is expected any more (7 days;
-- a late reading into a compressed chunk still works, decompressing that segment). On the
-- Apache edition this block does nothing: storage is as docs/benchmarks.md measures.
DO $$
BEGIN
    IF current_setting('timescaledb.license', true) = 'timescale' THEN
        ALTER TABLE readings SET (timescaledb.compress,
            timescaledb.compress_segmentby = 'station_id, quantity',
            timescaledb.compress_orderby = 'ts');
        PERFORM add_compression_policy('readings', INTERVAL '7 days');
        ALTER TABLE readings_15m SET (timescaledb.compress,
            timescaledb.compress_segmentby = 'station_id, quantity',
            timescaledb.compress_orderby = 'bucket');
        PERFORM add_compression_policy('readings_15m', INTERVAL '7 days');
    END IF;
END
$$;

-- Least privilege (0005): ingest maintains the daily rain; the evaluator, the API and Grafana read.
GRANT SELECT, INSERT, UPDATE ON readings_rain_1d TO encosta_ingest;
GRANT SELECT ON readings_rain_1d TO encosta_alerts, encosta_api, encosta_reader;
