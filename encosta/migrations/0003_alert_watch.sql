-- Heartbeats and fallback escalation (docs/alerts.md "Heartbeat" and "Fallback"), both sent
-- through the outbox like transitions.

-- heartbeat: the subscription opts in to a periodic "encosta.heartbeat" message.
-- fallback: the subscription hears only "alert.unacknowledged" (an open alert nobody has
-- acknowledged for ENCOSTA_ALERTS_FALLBACK_MIN), not the ordinary transitions.
ALTER TABLE webhook_subscriptions
    ADD COLUMN heartbeat boolean NOT NULL DEFAULT false,
    ADD COLUMN fallback  boolean NOT NULL DEFAULT false;
GRANT SELECT (heartbeat, fallback) ON webhook_subscriptions TO encosta_reader;

-- When the fallback subscriptions were told about this alert (once per episode).
ALTER TABLE alerts ADD COLUMN fallback_at timestamptz;

-- A heartbeat belongs to no alert.
ALTER TABLE outbox
    ALTER COLUMN alert_id DROP NOT NULL,
    ALTER COLUMN seq DROP NOT NULL;
