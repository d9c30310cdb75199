-- Outbox claims tied to the claiming dispatcher's database session (docs/alerts.md "Delivery
-- after a crash"). A dispatcher registers here and holds the session-level advisory lock
-- (outbox_dispatchers namespace, id) on a dedicated connection for as long as it runs; it
-- renews heartbeat_at every second. A claimed outbox row records the claimer in claimed_by.
-- The claim stands while that lock is held AND the heartbeat is fresh (and at most the lease):
-- a killed dispatcher's session ends, PostgreSQL frees its lock, and its claims are claimable
-- at the next scan instead of after a lease; a frozen (SIGSTOPped) one keeps its session but
-- stops renewing, and its claims are taken over after ENCOSTA_ALERTS_CLAIM_STALE_S.
CREATE TABLE outbox_dispatchers (
    id           integer PRIMARY KEY,             -- the advisory lock's second key (int4)
    host         text NOT NULL,                   -- for operators: where it runs
    os_pid       integer NOT NULL,
    backend_pid  integer NOT NULL,                -- pg_backend_pid() of the lock session
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);
CREATE SEQUENCE outbox_dispatchers_id_seq AS integer MINVALUE 1 CYCLE OWNED BY outbox_dispatchers.id;

-- No foreign key: a dispatcher row is deleted when it stops (or cleaned up by the next one to
-- start), and a claim whose dispatcher row is gone is simply free.
ALTER TABLE outbox
    ADD COLUMN claimed_by integer,
    ADD COLUMN claimed_at timestamptz;
CREATE INDEX outbox_claimed_idx ON outbox (claimed_by) WHERE claimed_by IS NOT NULL;

-- Least privilege (0005): only the dispatcher (encosta_alerts) registers, renews and claims.
GRANT SELECT, INSERT, UPDATE, DELETE ON outbox_dispatchers TO encosta_alerts;
GRANT USAGE ON SEQUENCE outbox_dispatchers_id_seq TO encosta_alerts;
GRANT UPDATE (claimed_by, claimed_at) ON outbox TO encosta_alerts;
