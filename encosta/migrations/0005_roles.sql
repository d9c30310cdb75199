-- Least-privilege roles (docs/reliability-roles.md): one login per service and Grafana's
-- read-only login. Only the owner of the schema (the user that runs `encosta migrate`) may do
-- DDL, TRUNCATE, retention or delete history; the services get the rows and columns they use.
--
-- Roles are cluster-wide while grants are per database: the roles are created only when
-- missing (a second database in the same cluster migrates cleanly), the grants below are
-- repeated in every database. Passwords are never written here: `encosta migrate` sets them
-- from ENCOSTA_DB_PASSWORD_* after the SQL migrations.
--
-- A migration that adds a table must grant it to each role that needs it (or to none, on
-- purpose) and record the decision in tests/encosta/test_roles.py MATRIX; the test fails on a
-- table without one.

DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['encosta_ingest', 'encosta_alerts', 'encosta_api',
                                'encosta_reader'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I LOGIN', name);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- another database of the cluster created it concurrently
            END;
        END IF;
        -- encosta_reader predates this migration as NOLOGIN; none may be more than a login.
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = name
                   AND (NOT rolcanlogin OR rolsuper OR rolcreatedb OR rolcreaterole
                        OR rolreplication OR rolbypassrls)) THEN
            EXECUTE format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'
                           ' NOREPLICATION NOBYPASSRLS', name);
        END IF;
    END LOOP;
    -- Grafana: every transaction read-only, and a runaway panel cannot hog the database.
    IF NOT EXISTS (SELECT FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
                   WHERE r.rolname = 'encosta_reader' AND s.setdatabase = 0
                   AND 'default_transaction_read_only=on' = ANY (s.setconfig)
                   AND 'statement_timeout=30s' = ANY (s.setconfig)) THEN
        ALTER ROLE encosta_reader SET default_transaction_read_only = on;
        ALTER ROLE encosta_reader SET statement_timeout = '30s';
    END IF;
END
$$;

-- Hygiene: the schema and its functions are for the owner and the four roles only. The
-- database's own privileges (CONNECT, TEMPORARY) are set by `encosta migrate` on every run
-- (encosta/roles.py grant_database): CREATE DATABASE ... TEMPLATE does not copy them.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO encosta_ingest, encosta_alerts, encosta_api, encosta_reader;
REVOKE EXECUTE ON FUNCTION encosta_apply_retention(interval) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION encosta_append_only() FROM PUBLIC;

-- Start from nothing, then grant table by table: every privilege below is a decision.
-- 0001 gave the reader SELECT on every table, and on every future one by default; a future
-- table holding secrets must not become readable by Grafana without anyone deciding it.
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM encosta_reader;
REVOKE ALL ON ALL TABLES IN SCHEMA public
    FROM PUBLIC, encosta_ingest, encosta_alerts, encosta_api, encosta_reader;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public
    FROM PUBLIC, encosta_ingest, encosta_alerts, encosta_api, encosta_reader;
REVOKE SELECT (id, url, min_level, zones, format, enabled, created_at, heartbeat, fallback)
    ON webhook_subscriptions FROM encosta_reader;

-- encosta_ingest (ingest/writer.py): the registry's ids, new readings, rejects.
GRANT SELECT (id, network, status) ON stations TO encosta_ingest;
GRANT INSERT ON readings TO encosta_ingest;
GRANT INSERT ON rejects TO encosta_ingest;
-- ON CONFLICT (message_hash, record_index) names the arbiter columns.
GRANT SELECT (message_hash, record_index) ON rejects TO encosta_ingest;
GRANT USAGE ON SEQUENCE rejects_id_seq TO encosta_ingest;

-- encosta_alerts (alerts/evaluator, observations, store, heartbeat, fallback, dispatcher,
-- partitions, listener): reads the network, writes alert lifecycles and the outbox.
GRANT SELECT ON zones, stations, readings TO encosta_alerts;
GRANT SELECT, INSERT ON alerts TO encosta_alerts;
GRANT UPDATE (level, seq, below_since, below_max, status, updated_at, cleared_at, fallback_at)
    ON alerts TO encosta_alerts;
GRANT SELECT, INSERT ON alert_events TO encosta_alerts;
GRANT SELECT ON webhook_subscriptions TO encosta_alerts;  -- the dispatcher signs with secret
GRANT SELECT, INSERT ON outbox TO encosta_alerts;
GRANT UPDATE (status, attempts, next_attempt_at, last_error, delivered_at)
    ON outbox TO encosta_alerts;
GRANT USAGE ON SEQUENCE alerts_id_seq, outbox_id_seq TO encosta_alerts;

-- encosta_api (alerts/api/*, and `encosta webhooks`): reads everything it reports,
-- acknowledges alerts (an event and its outbox rows), manages subscriptions, replays dead
-- letters.
GRANT SELECT ON zones, stations, readings, alerts, alert_events, outbox, webhook_subscriptions
    TO encosta_api;
GRANT UPDATE (seq, acknowledged_at, acknowledged_by, updated_at) ON alerts TO encosta_api;
GRANT INSERT ON alert_events TO encosta_api;
GRANT INSERT ON outbox TO encosta_api;
GRANT UPDATE (status, next_attempt_at) ON outbox TO encosta_api;
GRANT INSERT, DELETE ON webhook_subscriptions TO encosta_api;  -- DELETE cascades to its outbox
GRANT USAGE ON SEQUENCE outbox_id_seq, webhook_subscriptions_id_seq TO encosta_api;

-- encosta_reader (Grafana, deploy/grafana/dashboards): reads all but webhook secrets.
GRANT SELECT ON zones, stations, readings, readings_hourly, rejects, alerts, alert_events,
    outbox, schema_migrations TO encosta_reader;
GRANT SELECT (id, url, min_level, zones, format, enabled, created_at, heartbeat, fallback)
    ON webhook_subscriptions TO encosta_reader;
