-- 0014: siren and broadcast hooks (docs/alerts.md "Siren and broadcast hooks").
-- audience: what a subscription hears. 'full' (every transition, every field: today's),
-- 'siren' (a community siren controller: raise, escalate, clear of risk alerts; zone, level,
-- the CAP instruction; no evidence) or 'broadcast' (an SMS/WhatsApp broadcaster: risk
-- transitions with the public wording and the public CAP link).
-- ack_token_hash: SHA-256 (hex) of the subscription's own receipt token, which its device
-- presents to POST /alerts/{id}/receipts/{subscription}; the token itself is shown once.
ALTER TABLE webhook_subscriptions
    ADD COLUMN audience text NOT NULL DEFAULT 'full'
        CHECK (audience IN ('full', 'siren', 'broadcast')),
    ADD COLUMN ack_token_hash text CHECK (ack_token_hash ~ '^[0-9a-f]{64}$'),
    ADD CONSTRAINT webhook_subscriptions_audience_token
        CHECK ((audience = 'full') = (ack_token_hash IS NULL)),
    ADD CONSTRAINT webhook_subscriptions_audience_fallback
        CHECK (audience = 'full' OR NOT fallback);
GRANT SELECT (audience) ON webhook_subscriptions TO encosta_reader;  -- never the token hash

-- What a siren or broadcaster reports it did with a message: "siren_sounded" or
-- "broadcast_sent", for transition seq of the alert. Part of the alert's history (shown with
-- its events by GET /alerts/{id} and `encosta alerts show`) but not a transition: it takes no
-- alert seq and sends no webhook. Append-only like alert_events; one receipt per
-- (alert, transition, subscription, action): a device that retries its call records nothing new.
CREATE TABLE alert_receipts (
    alert_id        bigint NOT NULL REFERENCES alerts (id),
    seq             integer NOT NULL,
    subscription_id bigint NOT NULL,  -- no foreign key: the history outlives a subscription
    action          text NOT NULL CHECK (action IN ('siren_sounded', 'broadcast_sent')),
    actor           text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    note            text CHECK (length(note) <= 2000),
    at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (alert_id, seq, subscription_id, action),
    FOREIGN KEY (alert_id, seq) REFERENCES alert_events (alert_id, seq)
);
CREATE TRIGGER alert_receipts_append_only BEFORE UPDATE OR DELETE ON alert_receipts
    FOR EACH ROW EXECUTE FUNCTION encosta_append_only();

GRANT SELECT, INSERT ON alert_receipts TO encosta_api;
GRANT SELECT ON alert_receipts TO encosta_reader;
