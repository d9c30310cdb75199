"""Least-privilege roles (migration 0005): each service's login may do what it needs, no more.

The rest of the suite runs every service as its role (``Database.dsn_for``), which proves that
the grants suffice; here each role is refused what it must not do, and :data:`MATRIX` records
the decision taken for every table so that a new table without one fails a test.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import asyncpg
import pytest

from encosta import roles, stack
from encosta.cli import main
from encosta.migrate import MIGRATIONS, migrate

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = pytest.mark.services

SERVICES = ("ingest", "alerts", "api", "reader")
ROLE = {s: f"encosta_{s}" for s in SERVICES}
SUBSCRIPTION_PUBLIC: tuple[str, ...] = (
    *("id", "url", "min_level", "zones", "format", "enabled", "created_at"),
    *("heartbeat", "fallback"),
    "audience",  # 0014; never ack_token_hash
)


def cols(privilege: str, *columns: str) -> set[str]:
    """Column-level grants written as ``PRIVILEGE(column)``."""
    return {f"{privilege}({c})" for c in columns}


# table -> service -> privileges: "SELECT" is table-level, "SELECT(id)" one column's grant.
# Every table of the schema must appear here, with every service (set() = deliberately none).
MATRIX: dict[str, dict[str, set[str]]] = {
    "schema_migrations": {"ingest": set(), "alerts": set(), "api": set(), "reader": {"SELECT"}},
    "zones": {"ingest": set(), "alerts": {"SELECT"}, "api": {"SELECT"}, "reader": {"SELECT"}},
    "stations": {
        "ingest": cols("SELECT", "id", "network", "status"),
        "alerts": {"SELECT"},
        "api": {"SELECT"},
        "reader": {"SELECT"},
    },
    "readings": {
        "ingest": {"INSERT", "SELECT"},  # 0006: a re-send is compared with what is stored
        "alerts": {"SELECT"},
        "api": {"SELECT"},
        "reader": {"SELECT"},
    },
    "readings_hourly": {"ingest": set(), "alerts": set(), "api": set(), "reader": {"SELECT"}},
    # 0008: the 15-minute rollup, kept by ingest with its readings, read by the evaluator
    "readings_15m": {
        "ingest": {"SELECT", "INSERT", "UPDATE"},
        "alerts": {"SELECT"},
        "api": {"SELECT"},
        "reader": {"SELECT"},
    },
    # 0009: daily rain, kept by ingest like readings_15m, read for the antecedent record
    "readings_rain_1d": {
        "ingest": {"SELECT", "INSERT", "UPDATE"},
        "alerts": {"SELECT"},
        "api": {"SELECT"},
        "reader": {"SELECT"},
    },
    # 0010: the model's output per step, written (a re-evaluated step replaced: DELETE then
    # COPY) by the evaluator, drawn by Grafana
    "station_results": {
        "ingest": set(),
        "alerts": {"SELECT", "INSERT", "DELETE"},
        "api": {"SELECT"},
        "reader": {"SELECT"},
    },
    "zone_results": {
        "ingest": set(),
        "alerts": {"SELECT", "INSERT", "DELETE"},
        "api": {"SELECT"},
        "reader": {"SELECT"},
    },
    "rejects": {
        "ingest": {"INSERT"} | cols("SELECT", "message_hash", "record_index"),
        "alerts": set(),
        "api": set(),
        "reader": {"SELECT"},
    },
    "alerts": {
        "ingest": set(),
        "alerts": {"SELECT", "INSERT"}
        | cols(
            "UPDATE",
            "level",
            "seq",
            "below_since",
            "below_max",
            "status",
            "updated_at",
            "cleared_at",
            "fallback_at",
        ),
        "api": {"SELECT"}
        | cols("UPDATE", "seq", "acknowledged_at", "acknowledged_by", "updated_at"),
        "reader": {"SELECT"},
    },
    "alert_events": {
        "ingest": set(),
        "alerts": {"SELECT", "INSERT"},
        "api": {"SELECT", "INSERT"},
        "reader": {"SELECT"},
    },
    "webhook_subscriptions": {
        "ingest": set(),
        "alerts": {"SELECT"},
        "api": {"SELECT", "INSERT", "DELETE"},
        "reader": cols("SELECT", *SUBSCRIPTION_PUBLIC),  # never the secret
    },
    "outbox": {
        "ingest": set(),
        "alerts": {"SELECT", "INSERT"}
        | cols(
            "UPDATE",
            *("status", "attempts", "next_attempt_at", "last_error", "delivered_at"),
            *("claimed_by", "claimed_at"),  # 0007: claims tied to the dispatcher's session
        ),
        "api": {"SELECT", "INSERT"} | cols("UPDATE", "status", "next_attempt_at"),
        "reader": {"SELECT"},
    },
    # 0011: support points of the status page: public facts, written by the owner's import
    "zone_support_points": {
        "ingest": set(),
        "alerts": set(),
        "api": {"SELECT"},
        "reader": {"SELECT"},
    },
    # 0011: community reports; personal data (contact, description, photo) for the API only
    "community_reports": {
        "ingest": set(),
        "alerts": cols(
            "SELECT", "id", "network", "zone_id", "category", "status", "reviewed_at", "created_at"
        ),
        "api": {"SELECT", "INSERT"}
        | cols(
            "UPDATE",
            *("status", "reviewed_by", "reviewed_at", "review_note"),
            *("contact", "description", "photo", "photo_type", "purged_at"),
        ),
        "reader": cols(
            "SELECT",
            *("id", "network", "zone_id", "category", "source", "lat", "lon", "status"),
            *("reviewed_by", "reviewed_at", "created_at"),
        ),
    },
    # 0014: siren and broadcast receipts, appended by the API for the device's receipt token
    "alert_receipts": {
        "ingest": set(),
        "alerts": set(),
        "api": {"SELECT", "INSERT"},
        "reader": {"SELECT"},
    },
    # 0015: the reports' rate limit (keyed hashes of client addresses): the API counts and prunes
    "report_rate_limits": {
        "ingest": set(),
        "alerts": set(),
        "api": {"SELECT", "INSERT", "UPDATE", "DELETE"},
        "reader": set(),
    },
    # 0007: the dispatchers' registry (host, pids, heartbeat); the dispatcher's alone.
    "outbox_dispatchers": {
        "ingest": set(),
        "alerts": {"SELECT", "INSERT", "UPDATE", "DELETE"},
        "api": set(),
        "reader": set(),
    },
}
SEQUENCES = {
    "rejects_id_seq": {"ingest"},
    "alerts_id_seq": {"alerts"},
    "outbox_id_seq": {"alerts", "api"},
    "webhook_subscriptions_id_seq": {"api"},
    "outbox_dispatchers_id_seq": {"alerts"},
    "community_reports_id_seq": {"api"},
}

_TABLE_GRANTS = """
SELECT c.relname, r.rolname, a.privilege_type
FROM pg_class c
CROSS JOIN LATERAL aclexplode(c.relacl) a
JOIN pg_roles r ON r.oid = a.grantee
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind::text = ANY($1::text[])
  AND r.rolname = ANY($2::text[])
"""
_COLUMN_GRANTS = """
SELECT c.relname, r.rolname, a.privilege_type || '(' || t.attname || ')' AS privilege_type
FROM pg_class c
JOIN pg_attribute t ON t.attrelid = c.oid AND t.attnum > 0 AND NOT t.attisdropped
CROSS JOIN LATERAL aclexplode(t.attacl) a
JOIN pg_roles r ON r.oid = a.grantee
WHERE c.relnamespace = 'public'::regnamespace AND r.rolname = ANY($1::text[])
"""


async def _grants(db: Database) -> dict[str, dict[str, set[str]]]:
    """What the roles hold on each table and view, in :data:`MATRIX`'s notation."""
    found: dict[str, dict[str, set[str]]] = {}
    names = [ROLE[s] for s in SERVICES]
    service = {v: k for k, v in ROLE.items()}
    tables = await db.fetch(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        " AND relkind IN ('r', 'p', 'v', 'm', 'f')"
    )
    for row in tables:
        found[row["relname"]] = {s: set() for s in SERVICES}
    rows = await db.fetch(_TABLE_GRANTS, ["r", "p", "v", "m", "f"], names)
    rows += await db.fetch(_COLUMN_GRANTS, names)
    for row in rows:
        found[row["relname"]][service[row["rolname"]]].add(row["privilege_type"])
    return found


async def test_every_table_has_a_decision_for_every_role(database: Database) -> None:
    """A table or view added without recording its grants here fails, naming the table."""
    actual = await _grants(database)
    undecided = sorted(set(actual) - set(MATRIX))
    assert not undecided, (
        f"tables {undecided} have no entry in tests/encosta/test_roles.py MATRIX: grant each "
        "role what it needs in the migration that adds them (docs/reliability.md, 'Database "
        "roles') and record the decision, set() for none"
    )
    assert sorted(set(MATRIX) - set(actual)) == [], "MATRIX names tables the schema lacks"


async def test_grants_are_exactly_the_matrix(database: Database) -> None:
    """Each role holds precisely the table and column privileges the matrix lists."""
    actual = await _grants(database)
    wrong = {
        (table, service): (sorted(actual[table][service]), sorted(expected))
        for table, decisions in MATRIX.items()
        for service, expected in decisions.items()
        if actual.get(table, {}).get(service) != expected
    }
    assert wrong == {}, "(table, role): (granted, matrix)"


async def test_public_holds_nothing_and_sequences_are_granted_precisely(
    database: Database,
) -> None:
    """PUBLIC has no table privilege; each sequence is usable only by the roles that insert."""
    public = await database.fetch(
        "SELECT c.relname FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a"
        " WHERE c.relnamespace = 'public'::regnamespace AND a.grantee = 0"
    )
    assert [r["relname"] for r in public] == []
    rows = await database.fetch(_TABLE_GRANTS, ["S"], [ROLE[s] for s in SERVICES])
    users: dict[str, set[str]] = {}
    for row in rows:
        assert row["privilege_type"] == "USAGE", row
        users.setdefault(row["relname"], set()).add(row["rolname"].removeprefix("encosta_"))
    assert users == SEQUENCES


async def test_roles_are_plain_logins(database: Database) -> None:
    """Each role is a plain login (no superuser, file or program access); the reader read-only."""
    for service in SERVICES:
        [row] = await database.fetch(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls,"
            " rolcanlogin, pg_has_role($1, 'pg_read_server_files', 'MEMBER') AS read_files,"
            " pg_has_role($1, 'pg_write_server_files', 'MEMBER') AS write_files,"
            " pg_has_role($1, 'pg_execute_server_program', 'MEMBER') AS programs,"
            " pg_has_role($1, 'pg_read_all_data', 'MEMBER') AS read_all"
            " FROM pg_roles WHERE rolname = $1",
            ROLE[service],
        )
        assert dict(row) == {
            "rolsuper": False,
            "rolcreaterole": False,
            "rolcreatedb": False,
            "rolreplication": False,
            "rolbypassrls": False,
            "rolcanlogin": True,
            "read_files": False,
            "write_files": False,
            "programs": False,
            "read_all": False,
        }, service
        connection = await asyncpg.connect(database.dsn_for(service))
        try:
            assert await connection.fetchval("SELECT current_user") == ROLE[service]
            read_only = await connection.fetchval("SHOW default_transaction_read_only")
        finally:
            await connection.close()
        assert read_only == ("on" if service == "reader" else "off")


async def _refused(db: Database, service: str, sql: str) -> None:
    """``sql`` as ``service`` fails for want of a privilege, not for a read-only session."""
    connection = await asyncpg.connect(db.dsn_for(service))
    try:
        await connection.execute("SET default_transaction_read_only = off")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):  # noqa: PT012
            await connection.execute(sql)
            pytest.fail(f"{ROLE[service]} was allowed: {sql}")
    finally:
        await connection.close()


FORBIDDEN_TO_ALL = [
    "CREATE TABLE intruder (x int)",
    "CREATE SCHEMA intruder",
    "CREATE TEMP TABLE intruder (x int)",
    "ALTER TABLE readings ADD COLUMN intruder int",
    "ALTER TABLE alert_events DISABLE TRIGGER alert_events_append_only",
    "DROP TABLE alerts",
    "DROP VIEW readings_hourly",
    "DROP FUNCTION encosta_append_only() CASCADE",
    "CREATE INDEX intruder ON readings (value)",
    "ALTER TABLE webhook_subscriptions OWNER TO CURRENT_USER",
    "DELETE FROM alert_events",
    "UPDATE alert_events SET note = 'rewritten'",
    "DELETE FROM readings",
    "UPDATE readings SET value = 0",
    "DELETE FROM alerts",
    "DELETE FROM rejects",
    "COPY (SELECT 1) TO PROGRAM 'id'",
    "COPY zones FROM PROGRAM 'id'",
    "COPY (SELECT 1) TO '/tmp/encosta-intruder'",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_read_binary_file('postgresql.conf')",
    "SELECT pg_ls_dir('.')",
    "SELECT encosta_apply_retention(interval '1 day')",
    "SELECT drop_chunks('readings', older_than => now())",
    "SELECT lo_import('/etc/passwd')",
]


@pytest.mark.parametrize("service", SERVICES)
async def test_role_is_refused_ddl_history_deletion_and_server_access(
    database: Database, service: str
) -> None:
    """DDL, history deletion, retention, server files and programs are refused to every role."""
    forbidden = FORBIDDEN_TO_ALL
    if service == "ingest":  # ingest alone may stage in a temporary table
        forbidden = [s for s in forbidden if not s.startswith("CREATE TEMP")]
    for sql in forbidden:
        await _refused(database, service, sql)
    stored = await database.fetchval("SELECT count(*) FROM stations")
    assert stored > 0


@pytest.mark.parametrize("service", SERVICES)
async def test_role_cannot_truncate_any_table(database: Database, service: str) -> None:
    """TRUNCATE of each table is refused to each role (truncating views is not a thing)."""
    tables = await database.fetch(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        " AND relkind IN ('r', 'p') ORDER BY relname"
    )
    assert len(tables) >= 8
    for row in tables:
        await _refused(database, service, f'TRUNCATE "{row["relname"]}"')
    await _refused(database, service, "TRUNCATE alert_events, alerts, outbox")


CROSS_SERVICE = [
    ("ingest", "SELECT secret FROM webhook_subscriptions"),
    ("ingest", "SELECT * FROM alerts"),
    ("ingest", "SELECT raw FROM rejects"),
    ("ingest", "SELECT lat FROM stations"),
    (
        "ingest",
        (
            "INSERT INTO outbox (message_id, subscription_id, zone_id, content_type,"
            " payload) VALUES ('m', 1, 'z', 't', 'p')"
        ),
    ),
    ("ingest", "UPDATE stations SET status = 'retired'"),
    (
        "alerts",
        (
            "INSERT INTO readings (station_id, quantity, ts, value)"
            " VALUES ('rocinha-01', 'rain_mm', now(), 500)"
        ),
    ),
    (
        "alerts",
        "INSERT INTO webhook_subscriptions (url, secret) VALUES ('http://x/', 'whsec_eA==')",
    ),
    ("alerts", "DELETE FROM webhook_subscriptions"),
    ("alerts", "UPDATE alerts SET acknowledged_by = 'evaluator'"),
    ("alerts", "UPDATE outbox SET payload = 'forged'"),
    ("alerts", "UPDATE stations SET status = 'retired'"),
    ("alerts", "SELECT * FROM rejects"),
    (
        "api",
        (
            "INSERT INTO readings (station_id, quantity, ts, value)"
            " VALUES ('rocinha-01', 'rain_mm', now(), 500)"
        ),
    ),
    (
        "api",
        (
            "INSERT INTO alerts (network, zone_id, kind, level, raised_at, updated_at)"
            " VALUES ('rio', 'rocinha', 'risk', 3, now(), now())"
        ),
    ),
    ("api", "UPDATE alerts SET level = 0, status = 'cleared'"),
    ("api", "UPDATE outbox SET payload = 'forged'"),
    ("api", "UPDATE alert_receipts SET actor = 'forged'"),
    ("api", "UPDATE webhook_subscriptions SET ack_token_hash = NULL"),
    ("api", "UPDATE webhook_subscriptions SET url = 'http://attacker/'"),
    ("api", "INSERT INTO zones (id, network, name) VALUES ('x', 'x', 'x')"),
    ("api", "SELECT * FROM rejects"),
    ("reader", "SELECT secret FROM webhook_subscriptions"),
    ("reader", "SELECT ack_token_hash FROM webhook_subscriptions"),
    ("reader", "SELECT * FROM webhook_subscriptions"),
    (
        "reader",
        (
            "INSERT INTO readings (station_id, quantity, ts, value)"
            " VALUES ('rocinha-01', 'rain_mm', now(), 500)"
        ),
    ),
    ("reader", "UPDATE alerts SET level = 0"),
    (
        "reader",
        (
            "INSERT INTO alert_events (alert_id, seq, transition, from_level, to_level,"
            " evidence, at) VALUES (1, 99, 'cleared', 3, 0, '{}', now())"
        ),
    ),
    ("reader", "UPDATE outbox SET status = 'pending'"),
    ("reader", "DELETE FROM webhook_subscriptions"),
    ("reader", "UPDATE stations SET status = 'retired'"),
    ("reader", "SELECT nextval('outbox_id_seq')"),
]


@pytest.mark.parametrize(("service", "sql"), CROSS_SERVICE)
async def test_role_cannot_reach_other_services_data(
    database: Database, service: str, sql: str
) -> None:
    """A role cannot read or write what belongs to another service (e.g. ingest the secrets)."""
    await _refused(database, service, sql)


async def test_reader_session_is_read_only(database: Database) -> None:
    """Grafana's login runs every transaction read-only, whatever it is granted."""
    connection = await asyncpg.connect(database.dsn_for("reader"))
    try:
        assert await connection.fetchval("SELECT count(*) FROM stations") > 0
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await connection.execute("INSERT INTO zones (id, network, name) VALUES ('x', 'x', 'x')")
        assert await connection.fetchval("SHOW statement_timeout") == "30s"
    finally:
        await connection.close()


async def _in_rolled_back_transaction(db: Database, service: str, statements: list[str]) -> None:
    connection = await asyncpg.connect(db.dsn_for(service))
    try:
        transaction = connection.transaction()
        await transaction.start()
        try:
            for sql in statements:
                await connection.execute(sql)
        finally:
            await transaction.rollback()
    finally:
        await connection.close()


async def test_ingest_may_do_what_the_writer_does(database: Database) -> None:
    """Read the registry ids, COPY readings, stage duplicates, record rejects, notify."""
    connection = await asyncpg.connect(database.dsn_for("ingest"))
    try:
        async with connection.transaction():
            ids = await connection.fetch(
                "SELECT id FROM stations WHERE network = $1 AND status <> 'retired'",
                database.network,
            )
            assert ids
            now = datetime.now(UTC)
            rows = [(ids[0]["id"], "rain_mm", now, 1.0, now)]
            columns = ("station_id", "quantity", "ts", "value", "received_at")
            await connection.copy_records_to_table("readings", records=rows, columns=columns)
            await connection.execute(
                "CREATE TEMP TABLE stage (station_id text, quantity text, ts timestamptz,"
                " value double precision, received_at timestamptz) ON COMMIT DELETE ROWS"
            )
            await connection.copy_records_to_table("stage", records=rows, columns=columns)
            status = await connection.execute(
                "INSERT INTO readings SELECT * FROM stage ON CONFLICT DO NOTHING"
            )
            assert status == "INSERT 0 0"
            for _ in range(2):
                await connection.execute(
                    "INSERT INTO rejects (topic, station_id, reason, detail, record_index, raw,"
                    " message_hash) VALUES ('t', NULL, 'bad_json', 'd', -1, 'x', 'h')"
                    " ON CONFLICT (message_hash, record_index) DO NOTHING"
                )
            await connection.execute("SELECT pg_notify('encosta_readings', $1)", database.network)
    finally:
        await connection.close()
    assert await database.fetchval("SELECT count(*) FROM readings") == 1
    assert await database.fetchval("SELECT count(*) FROM rejects") == 1


async def test_alerts_may_run_the_alert_lifecycle_and_the_outbox(database: Database) -> None:
    """Open, update and lock alerts, append events, queue and settle outbox rows, lock, listen."""
    subscription = await database.fetchval(
        "INSERT INTO webhook_subscriptions (url, secret) VALUES ('http://127.0.0.1:9/',"
        " 'whsec_c2VjcmV0') RETURNING id"
    )
    zone = database.registry.zones[0].id
    await _in_rolled_back_transaction(
        database,
        "alerts",
        [
            (
                "SELECT count(*) FROM readings r JOIN stations s ON s.id = r.station_id"
                " JOIN zones z ON z.id = s.zone_id"
            ),
            (
                "INSERT INTO alerts (id, network, zone_id, kind, level, raised_at, updated_at)"
                f" VALUES (nextval('alerts_id_seq'), 'n', '{zone}', 'risk', 2, now(), now())"
            ),
            "SELECT id FROM alerts WHERE status = 'open' FOR UPDATE",
            (
                "UPDATE alerts SET level = 3, seq = 2, below_since = NULL, below_max = 0,"
                " updated_at = now(), status = 'cleared', cleared_at = now(), fallback_at = now()"
            ),
            (
                "INSERT INTO alert_events (alert_id, seq, transition, from_level, to_level,"
                " evidence, at) SELECT id, 1, 'raised', 0, 2, '{}', now() FROM alerts"
            ),
            (
                "INSERT INTO outbox (message_id, subscription_id, alert_id, seq, zone_id,"
                f" content_type, payload) SELECT 'm1', {subscription}, id, 1, zone_id, 'j', '{{}}'"
                " FROM alerts"
            ),
            (
                "SELECT o.id, s.secret FROM outbox o JOIN webhook_subscriptions s"
                " ON s.id = o.subscription_id FOR UPDATE OF o SKIP LOCKED"
            ),
            (
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = now(),"
                " status = 'delivered', delivered_at = now(), last_error = NULL"
            ),
            "SELECT pg_try_advisory_lock(1, 2), pg_advisory_lock_shared(1, 3)",
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'",
            "LISTEN encosta_readings",
            "SELECT pg_notify('encosta_outbox', '')",
        ],
    )


async def test_api_may_report_acknowledge_and_manage_webhooks(database: Database) -> None:
    """Read every report, acknowledge, add and remove subscriptions, replay dead letters."""
    zone = database.registry.zones[0].id
    alert = await database.fetchval(
        "INSERT INTO alerts (network, zone_id, kind, level, raised_at, updated_at)"
        " VALUES ($1, $2, 'risk', 2, now(), now()) RETURNING id",
        database.network,
        zone,
    )
    await _in_rolled_back_transaction(
        database,
        "api",
        [
            "SELECT * FROM zones, stations, alerts, alert_events, outbox LIMIT 1",
            "SELECT r.ts FROM readings r ORDER BY r.ts DESC LIMIT 1",
            f"SELECT * FROM alerts WHERE id = {alert} FOR UPDATE",
            (
                f"UPDATE alerts SET seq = 2, acknowledged_at = now(), acknowledged_by = 'duty',"
                f" updated_at = now() WHERE id = {alert}"
            ),
            (
                "INSERT INTO alert_events (alert_id, seq, transition, from_level, to_level,"
                " evidence, actor, at, note)"
                f" VALUES ({alert}, 2, 'acknowledged', 2, 2, '{{}}', 'duty', now(), 'on our way')"
            ),
            (
                "INSERT INTO webhook_subscriptions (url, secret) VALUES ('http://127.0.0.1:9/',"
                " 'whsec_c2VjcmV0')"
            ),
            (
                "INSERT INTO outbox (message_id, subscription_id, alert_id, seq, zone_id,"
                f" content_type, payload, status) SELECT 'm2', max(id), {alert}, 2, '{zone}', 'j',"
                " '{}', 'dead' FROM webhook_subscriptions"
            ),
            "UPDATE outbox SET status = 'pending', next_attempt_at = now() WHERE status = 'dead'",
            "SELECT secret FROM webhook_subscriptions",
            "DELETE FROM webhook_subscriptions",  # cascades to its outbox rows, as the owner
        ],
    )


async def test_reader_may_read_every_dashboard_source(database: Database) -> None:
    """Grafana reads each table and view granted to it, and the subscriptions without secrets."""
    public = ", ".join(SUBSCRIPTION_PUBLIC)
    await _in_rolled_back_transaction(
        database,
        "reader",
        [
            *(f"SELECT * FROM {t} LIMIT 1" for t, g in MATRIX.items() if "SELECT" in g["reader"]),
            f"SELECT {public} FROM webhook_subscriptions",
        ],
    )


async def test_migrating_another_database_of_the_cluster_reuses_the_roles(
    stack_config: stack.StackConfig,
) -> None:
    """Roles are cluster-wide: a second database migrates cleanly and gets its own grants."""
    name = f"t_roles_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(stack_config.dsn("postgres"))
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        try:
            dsn = stack_config.dsn(name)
            assert [m.version for m in await migrate(dsn)][-1] >= 5
            assert await migrate(dsn) == []
            connection = await asyncpg.connect(stack_config.dsn(name, "encosta_alerts"))
            try:
                assert await connection.fetchval("SELECT count(*) FROM alerts") == 0
            finally:
                await connection.close()
        finally:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


def test_no_password_is_written_into_a_migration() -> None:
    """Passwords come from the environment at migrate time, never from SQL files."""
    for path in MIGRATIONS.glob("*.sql"):
        code = [line.split("--")[0] for line in path.read_text().splitlines()]
        assert "PASSWORD" not in "\n".join(code).upper(), path.name


async def test_migrate_sets_role_passwords_from_the_environment(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``encosta migrate`` stores a SCRAM verifier of each given password and never prints it."""
    passwords = {
        "encosta_ingest": f"ingest-{uuid.uuid4().hex}",
        "encosta_reader": f'it\'s "quoted"; DROP ROLE x -- {uuid.uuid4().hex}',
    }
    for role, password in passwords.items():
        monkeypatch.setenv(roles.PASSWORD_VARIABLES[role], password)
    for role in ("encosta_alerts", "encosta_api"):
        monkeypatch.delenv(roles.PASSWORD_VARIABLES[role], raising=False)
    try:
        code = await asyncio.to_thread(main, ["migrate", "--dsn", database.dsn])
        captured = capsys.readouterr()
        assert code == 0
        assert "password of encosta_ingest set" in captured.out
        assert "password of encosta_reader set" in captured.out
        assert "encosta_api" not in captured.out
        for password in passwords.values():
            assert password not in captured.out + captured.err
        for role, password in passwords.items():
            stored = await database.fetchval(
                "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role
            )
            assert stored.startswith("SCRAM-SHA-256$4096:")
            salt = base64.b64decode(stored.split("$")[1].split(":")[1])
            assert stored == roles.scram_verifier(password, salt)
            assert password not in stored
    finally:
        for role in passwords:
            await database.fetchval(f"ALTER ROLE {role} PASSWORD NULL")


async def test_database_privileges_are_the_roles_only(database: Database) -> None:
    """PUBLIC may not connect or create temporary tables; the roles connect, ingest alone TEMP."""
    rows = await database.fetch(
        "SELECT coalesce(r.rolname, 'PUBLIC') AS grantee, a.privilege_type"
        " FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a"
        " LEFT JOIN pg_roles r ON r.oid = a.grantee"
        " WHERE d.datname = current_database() AND a.grantee <> d.datdba"
    )
    assert sorted((r["grantee"], r["privilege_type"]) for r in rows) == sorted(
        [(ROLE[s], "CONNECT") for s in SERVICES] + [("encosta_ingest", "TEMPORARY")]
    )
