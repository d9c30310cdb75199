-- 0015: the community reports' rate limit, shared by every API process of the database
-- (alerts/api/rate_limit.py, docs/alerts.md "Community reports"). One row per client while its
-- window is open: key is HMAC-SHA256(ENCOSTA_REPORTS_RATE_KEY, network + client address, an
-- IPv6 address by its /64), never the address itself; window_start is when the key's current
-- fixed window (ENCOSTA_REPORTS_PER_HOUR reports, one hour) began, hits the reports admitted
-- in it. A row whose window has ended means nothing: the API's hourly retention task deletes it.
CREATE TABLE report_rate_limits (
    key          bytea PRIMARY KEY CHECK (length(key) = 32),
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL CHECK (hits >= 1)
);
CREATE INDEX report_rate_limits_window_idx ON report_rate_limits (window_start);

-- The API counts (INSERT ... ON CONFLICT DO UPDATE ... RETURNING) and prunes; nobody else
-- needs the keys, Grafana included.
GRANT SELECT, INSERT, UPDATE, DELETE ON report_rate_limits TO encosta_api;
