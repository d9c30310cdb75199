-- Alerts, their append-only history, webhook subscriptions and the transactional outbox
-- (docs/alerts.md). An alert transition and its outgoing messages commit in one transaction.

-- One row per alert episode of a zone: opened when the level leaves 0, closed when it clears.
-- The hysteresis state (below_since, below_max) lives on the row so that a restarted or
-- replacing evaluator continues a pending de-escalation instead of starting it over.
CREATE TABLE alerts (
    id              bigserial PRIMARY KEY,
    network         text NOT NULL,
    zone_id         text NOT NULL REFERENCES zones (id),
    kind            text NOT NULL CHECK (kind IN ('risk', 'data')),
    level           smallint NOT NULL CHECK (level BETWEEN 0 AND 3),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'cleared')),
    seq             integer NOT NULL DEFAULT 1,       -- number of the latest transition
    below_since     timestamptz,
    below_max       smallint NOT NULL DEFAULT 0,
    raised_at       timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    cleared_at      timestamptz,
    acknowledged_at timestamptz,
    acknowledged_by text
);
-- Two evaluations milliseconds apart must not open two alerts (ThingsBoard #2986).
CREATE UNIQUE INDEX alerts_one_open_idx ON alerts (zone_id, kind) WHERE status = 'open';
CREATE INDEX alerts_network_open_idx ON alerts (network) WHERE status = 'open';

CREATE TABLE alert_events (
    alert_id   bigint NOT NULL REFERENCES alerts (id),
    seq        integer NOT NULL,
    transition text NOT NULL
               CHECK (transition IN ('raised', 'escalated', 'de-escalated', 'acknowledged',
                                     'cleared')),
    from_level smallint NOT NULL CHECK (from_level BETWEEN 0 AND 3),
    to_level   smallint NOT NULL CHECK (to_level BETWEEN 0 AND 3),
    evidence   jsonb NOT NULL,                        -- includes model_version
    actor      text,                                  -- who acknowledged (NULL: the evaluator)
    at         timestamptz NOT NULL,
    PRIMARY KEY (alert_id, seq)
);

-- The history is append-only: an UPDATE or DELETE is a bug or tampering, refuse both.
CREATE FUNCTION encosta_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER alert_events_append_only BEFORE UPDATE OR DELETE ON alert_events
    FOR EACH ROW EXECUTE FUNCTION encosta_append_only();

CREATE TABLE webhook_subscriptions (
    id         bigserial PRIMARY KEY,
    url        text NOT NULL CHECK (url ~ '^https?://'),
    secret     text NOT NULL CHECK (secret LIKE 'whsec\_%'),
    min_level  smallint NOT NULL DEFAULT 1 CHECK (min_level BETWEEN 0 AND 3),
    zones      text[],                                -- NULL: every zone
    format     text NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'cap')),
    enabled    boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per (transition, subscription). message_id is the Standard Webhooks `webhook-id`:
-- stable across retries so receivers can deduplicate (alert id + transition number +
-- subscription). The body is stored as text because the signature covers its exact bytes.
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    message_id      text NOT NULL UNIQUE,
    subscription_id bigint NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    alert_id        bigint NOT NULL REFERENCES alerts (id),
    seq             integer NOT NULL,
    zone_id         text NOT NULL,
    content_type    text NOT NULL,
    payload         text NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
-- The dispatcher's scan: due pending rows, and the head of each (subscription, zone) queue.
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_queue_idx ON outbox (subscription_id, zone_id, id) WHERE status = 'pending';
CREATE INDEX outbox_dead_idx ON outbox (created_at) WHERE status = 'dead';

-- Grafana's reader must not see webhook secrets.
REVOKE SELECT ON webhook_subscriptions FROM encosta_reader;
GRANT SELECT (id, url, min_level, zones, format, enabled, created_at)
    ON webhook_subscriptions TO encosta_reader;
