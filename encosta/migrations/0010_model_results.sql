-- The model's output, stored (docs/operations.md, "Model results"): one row per evaluated
-- 15-minute step and station, and one per step and zone, written by the evaluator
-- (alerts/results.py) once per step with the numbers behind each level, so that Grafana can
-- draw the factor of safety, a zone-level timeline and a storm over any time range. A step
-- evaluated twice (a replica taking over, a re-evaluation after late data) overwrites its
-- rows: the newest evaluation of a step is what the tables say.
CREATE TABLE station_results (
    step            timestamptz NOT NULL,   -- the evaluated step (its 15-minute bucket start)
    station_id      text NOT NULL,
    zone_id         text NOT NULL,
    level           smallint NOT NULL,      -- 0 normal, 1 attention, 2 alert, 3 crisis
    criterion       text NOT NULL,          -- the criterion that set the level
    value           double precision,       -- its value (NULL: unknown)
    threshold       double precision,       -- the threshold of the level reached (or of 1)
    unknown         boolean NOT NULL,       -- missing data: the true level may be higher
    estimated       boolean NOT NULL,       -- rain interpolated from zone neighbours
    factor_of_safety double precision,      -- infinite-slope FS (NULL: no soil data)
    vwc_m3m3        double precision,       -- water content used for FS, m³/m³
    rain_1h_mm      double precision,
    rain_24h_mm     double precision,
    rain_96h_mm     double precision,
    api_mm          double precision,       -- antecedent precipitation index, mm
    event_intensity_mm_h double precision,  -- mean intensity of the current rain event
    id_threshold_mm_h    double precision,  -- intensity-duration threshold at its duration
    quality         smallint NOT NULL,      -- models.quality.QualityFlag bits (0: ok)
    live            boolean NOT NULL,       -- counted as a live sensor of its zone
    model_version   text NOT NULL,
    evaluated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (station_id, step)
);
SELECT create_hypertable('station_results', 'step', chunk_time_interval => INTERVAL '7 days');
CREATE INDEX station_results_zone_idx ON station_results (zone_id, step);

CREATE TABLE zone_results (
    step            timestamptz NOT NULL,
    zone_id         text NOT NULL,
    level           smallint NOT NULL,      -- the model's zone level (before hysteresis)
    criterion       text,                   -- the deciding station's criterion (NULL: none)
    value           double precision,
    threshold       double precision,
    station_id      text,                   -- the station that set the level
    unknown         boolean NOT NULL,
    unknown_material boolean NOT NULL,      -- unknown that could change the level
    crisis_stations integer NOT NULL,       -- stations whose own data show a crisis
    corroborated    boolean NOT NULL,
    degraded        boolean NOT NULL,       -- fewer live stations than needed
    stations        integer NOT NULL,
    live_stations   integer NOT NULL,
    min_factor_of_safety double precision,  -- lowest FS of the zone's stations
    max_rain_1h_mm  double precision,
    max_rain_24h_mm double precision,
    max_rain_96h_mm double precision,
    model_version   text NOT NULL,
    evaluated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (zone_id, step)
);
SELECT create_hypertable('zone_results', 'step', chunk_time_interval => INTERVAL '7 days');

-- Retention drops the results' chunks with the readings' (0001, 0008).
CREATE OR REPLACE FUNCTION encosta_apply_retention(keep interval) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE dropped integer;
BEGIN
    SELECT count(*) INTO dropped FROM drop_chunks('readings', older_than => now() - keep);
    PERFORM drop_chunks('readings_15m', older_than => now() - keep);
    PERFORM drop_chunks('readings_rain_1d', older_than => now() - keep);
    PERFORM drop_chunks('station_results', older_than => now() - keep);
    PERFORM drop_chunks('zone_results', older_than => now() - keep);
    RETURN dropped;
END
$$;
REVOKE EXECUTE ON FUNCTION encosta_apply_retention(interval) FROM PUBLIC;

-- Least privilege (0005): the evaluator writes (a re-evaluated step: DELETE then COPY), the API
-- and Grafana read.
GRANT SELECT, INSERT, DELETE ON station_results, zone_results TO encosta_alerts;
GRANT SELECT ON station_results, zone_results TO encosta_api, encosta_reader;
