"""encosta: the command line of the Encosta landslide early-warning backend.

Start with `make demo` (or `encosta demo`) on a fresh clone: it brings up the local stack and
replays a documented storm through the whole pipeline. `encosta status` and `encosta alerts`
are the duty officer's view. Configuration comes from environment variables: each service's
`--help` lists its own; README.md and docs/ describe them all.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import asyncpg

from alerts.errors import AlertsError
from encosta import duty, logs, manual, reports_command, stack
from encosta.backtest import command as backtest_command
from encosta.errors import ConfigError, EncostaError
from ingest.accounts import ingest_client_ids
from ingest.errors import IngestError
from models.errors import ModelError
from registry.errors import RegistryError
from runtime import settings
from runtime.settings import Environment
from simulators import cli as simulators_cli
from simulators.errors import SimulatorError

DEFAULT_REGISTRY = backtest_command.REGISTRY
_REGISTRY_HELP = backtest_command.REGISTRY_HELP
_OWNER_DSN_HELP = (
    "the schema owner's DSN (default: ENCOSTA_PG_OWNER_DSN, ENCOSTA_PG_DSN or the local stack's "
    "superuser)"
)


def _services(args: argparse.Namespace) -> int:
    config = stack.StackConfig.from_env(os.environ)
    if args.action == "up":
        stack.up(config)
    elif args.action == "down":
        stack.down(config)
    lines = stack.status(config)
    for name, line in lines.items():
        print(f"{name:12} {line}")
    return 0 if args.action != "status" or all(" up " in f" {v} " for v in lines.values()) else 1


def _migrate(args: argparse.Namespace) -> int:
    import asyncpg  # noqa: PLC0415  keeps `encosta --help` light

    from encosta.migrate import migrate  # noqa: PLC0415
    from encosta.roles import set_passwords  # noqa: PLC0415

    dsn = args.dsn or stack.owner_dsn(os.environ)

    async def run() -> list[str]:
        connection = await asyncpg.connect(dsn)
        try:
            return await set_passwords(connection, os.environ)
        finally:
            await connection.close()

    applied = asyncio.run(migrate(dsn))
    for migration in applied:
        print(f"applied {migration.version:04d}_{migration.name}")
    if not applied:
        print("schema up to date")
    for role in asyncio.run(run()):
        print(f"password of {role} set")  # the role's name only, never the password
    return 0


def _retention(args: argparse.Namespace) -> int:
    from encosta.retention import apply_retention  # noqa: PLC0415

    dsn = args.dsn or stack.owner_dsn(os.environ)
    dropped = asyncio.run(apply_retention(dsn, args.keep_days))
    print(f"dropped {dropped} readings chunk(s) older than {args.keep_days} days")
    return 0


def _stations(args: argparse.Namespace) -> int:
    from encosta.registry import import_registry  # noqa: PLC0415
    from registry.format import load_registry  # noqa: PLC0415

    registry = load_registry(Path(args.file))
    count = asyncio.run(import_registry(args.dsn or stack.owner_dsn(os.environ), registry))
    print(
        f"imported {count} stations in {len(registry.zones)} zones of network {registry.network!r}"
    )
    return 0


def _broker(args: argparse.Namespace) -> int:
    from encosta import dynsec  # noqa: PLC0415
    from registry.format import load_registry  # noqa: PLC0415

    if args.broker_command == "init":
        target = Path(args.file)
        if target.exists():
            print(f"{target} exists: left as it is (accounts change with `encosta broker sync`)")
            return 0
        password = os.environ.get("ENCOSTA_MQTT_ADMIN_PASSWORD")
        if not password:
            raise EncostaError("ENCOSTA_MQTT_ADMIN_PASSWORD must be set for `broker init`")
        dynsec.write_initial_config(target, password)
        print(f"wrote {target}: the admin account {dynsec.ADMIN_USERNAME} only, all else denied")
        return 0

    registry = load_registry(Path(args.file))
    env = Environment(os.environ, ConfigError)
    store = Path(os.environ["ENCOSTA_MQTT_CREDENTIALS"])
    ingest_ids = ingest_client_ids(args.ingest_clients, os.environ)
    fixed = {}
    if password := os.environ.get("ENCOSTA_MQTT_INGEST_PASSWORD"):
        fixed = dict.fromkeys(ingest_ids, password)
    report = asyncio.run(
        dynsec.sync_network(
            settings.mqtt_host(env),
            settings.mqtt_port(env),
            dynsec.admin_login(os.environ, store),
            registry,
            ingest_client_ids=ingest_ids,
            store=store,
            fixed=fixed,
        )
    )
    print(
        f"broker accounts of network {registry.network!r}: {len(report.created)} created, "
        f"{len(report.updated)} updated, {len(report.deleted)} deleted; passwords in {store}"
    )
    return 0


def _check(service: str) -> int:
    from encosta.healthcheck import check  # noqa: PLC0415

    code, reason = check(service, os.environ)
    print(reason, file=sys.stdout if code == 0 else sys.stderr)
    return code


def _ingest(args: argparse.Namespace) -> int:
    from encosta.runner import run_until_signal  # noqa: PLC0415
    from ingest.config import IngestConfig  # noqa: PLC0415
    from ingest.service import IngestService  # noqa: PLC0415

    if args.check:
        return _check("ingest")
    del args
    service = IngestService(IngestConfig.from_env(os.environ))
    asyncio.run(run_until_signal(service.run, service.stop))
    return 0


def _alerts(args: argparse.Namespace) -> int:
    from alerts.config import DispatchConfig, EvaluatorConfig  # noqa: PLC0415
    from alerts.service import AlertsService  # noqa: PLC0415
    from encosta.runner import run_until_signal  # noqa: PLC0415

    if args.alerts_command is not None:  # list, show, ack: the duty officer's commands
        return duty.alerts(args)
    if args.check:
        return _check("alerts")
    service = AlertsService(
        EvaluatorConfig.from_env(os.environ), DispatchConfig.from_env(os.environ)
    )
    asyncio.run(run_until_signal(service.run, service.stop))
    return 0


def _api(args: argparse.Namespace) -> int:
    from alerts.api.app import server  # noqa: PLC0415
    from alerts.api.config import ApiConfig  # noqa: PLC0415

    if args.check:
        return _check("api")
    del args
    asyncio.run(server(ApiConfig.from_env(os.environ)).serve())
    return 0


def _dead_letters(dsn: str, args: argparse.Namespace) -> int:
    import asyncpg  # noqa: PLC0415

    from alerts import deadletter  # noqa: PLC0415

    async def run() -> int:
        connection = await asyncpg.connect(dsn)
        try:
            if args.webhooks_command == "dead":
                for letter in await deadletter.list_dead(
                    connection, subscription=args.subscription
                ):
                    print(
                        f"{letter.message_id:24} sub={letter.subscription_id} "
                        f"zone={letter.zone_id} attempts={letter.attempts} {letter.last_error}"
                    )
                return 0
            if (args.message_id is None) == (args.subscription is None):
                print("encosta: error: give MESSAGE_ID or --subscription ID", file=sys.stderr)
                return 2
            if args.message_id is not None:
                replayed = [await deadletter.replay(connection, args.message_id)]
            else:
                replayed = await deadletter.replay_all(connection, subscription=args.subscription)
        finally:
            await connection.close()
        for message_id in replayed:
            print(f"replayed {message_id}")
        return 0

    return asyncio.run(run())


def _webhooks(args: argparse.Namespace) -> int:
    from dataclasses import replace  # noqa: PLC0415

    from alerts import subscriptions  # noqa: PLC0415
    from alerts.config import DispatchConfig  # noqa: PLC0415

    # The operator's webhook commands do what the ops API does, as its role.
    api_dsn = settings.service_dsn(Environment(os.environ, ConfigError), "api")
    config = replace(DispatchConfig.from_env(os.environ), dsn=args.dsn or api_dsn)
    if args.webhooks_command == "add":
        sub = asyncio.run(
            subscriptions.add(
                config.dsn,
                args.url,
                secret=args.secret,
                min_level=args.min_level,
                zones=args.zone or None,
                fmt=args.format,
                heartbeat=args.heartbeat,
                fallback=args.fallback,
                audience=args.audience,
                destinations=config.destinations,
            )
        )
        print(f"subscription {sub.id} -> {sub.url}\nsecret {sub.secret}")
        if sub.receipt_token is not None:
            print(f"receipt token {sub.receipt_token}")
    elif args.webhooks_command == "list":
        for sub in asyncio.run(subscriptions.list_all(config.dsn)):
            zones = ",".join(sub.zones) if sub.zones else "*"
            state = "enabled" if sub.enabled else "disabled"
            flags = "".join(
                f" {name}"
                for name, on in (
                    ("heartbeat", sub.heartbeat),
                    ("fallback", sub.fallback),
                    (sub.audience, sub.audience != "full"),
                )
                if on
            )
            print(
                f"{sub.id:5} {state:8} level>={manual.level_name(sub.min_level)} "
                f"{sub.format:4} "
                f"zones={zones} {sub.url}{flags}"
            )
    elif args.webhooks_command in {"dead", "replay"}:
        return _dead_letters(config.dsn, args)
    elif args.webhooks_command == "remove":
        asyncio.run(subscriptions.remove(config.dsn, args.id))
        print(f"removed subscription {args.id}")
    else:
        message_id = asyncio.run(subscriptions.send_test(config, args.id))
        print(f"delivered test message {message_id} to subscription {args.id}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from encosta.demo import run_demo  # noqa: PLC0415

    return run_demo(args)


def _add_database_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``services``, ``migrate``, ``retention`` and ``stations``: the stack and the schema."""
    services = sub.add_parser(
        "services",
        help="start, stop or report the local TimescaleDB "
        "and Mosquitto (state in ENCOSTA_STATE_DIR)",
    )
    services.add_argument(
        "action",
        choices=["up", "down", "status"],
        help="up: start both (already running: left as they are); down: stop both; status: "
        "report them (exit 1 unless both are up)",
    )
    services.set_defaults(func=_services)

    migrate = sub.add_parser("migrate", help="apply the SQL migrations not yet applied")
    migrate.add_argument(
        "--dsn",
        help="the schema owner's DSN (default: ENCOSTA_PG_OWNER_DSN, ENCOSTA_PG_DSN or the local "
        "stack's superuser); sets the role passwords given in ENCOSTA_DB_PASSWORD_*",
    )
    migrate.set_defaults(func=_migrate)

    retention = sub.add_parser(
        "retention",
        help="drop the chunks of readings, their rollups and the model's results older than "
        "--keep-days (run daily where the Apache edition has no retention policy)",
    )
    retention.add_argument(
        "--keep-days",
        type=int,
        default=400,
        help="days of readings to keep (default 400; at least 35: the model reads the 30-day "
        "antecedent record before its 96 h window back from these tables)",
    )
    retention.add_argument("--dsn", help=_OWNER_DSN_HELP)
    retention.set_defaults(func=_retention)

    stations = sub.add_parser("stations", help="manage the station registry")
    stations_sub = stations.add_subparsers(dest="stations_command", required=True)
    imp = stations_sub.add_parser("import", help="load a registry file (TOML) into the database")
    imp.add_argument("file", nargs="?", default=str(DEFAULT_REGISTRY), help=_REGISTRY_HELP)
    imp.add_argument("--dsn", help=_OWNER_DSN_HELP)
    imp.set_defaults(func=_stations)

    broker = sub.add_parser(
        "broker",
        help="manage the broker's accounts (Mosquitto dynamic security, docs/reliability.md)",
    )
    broker_sub = broker.add_subparsers(dest="broker_command", required=True)
    sync = broker_sub.add_parser(
        "sync",
        help="create, update or delete the MQTT accounts of a registry's network: one per "
        "station and gateway, one per ingest replica; new passwords go to "
        "ENCOSTA_MQTT_CREDENTIALS (default: the local stack's store)",
    )
    sync.add_argument("file", nargs="?", default=str(DEFAULT_REGISTRY), help=_REGISTRY_HELP)
    sync.add_argument(
        "--ingest-clients",
        help="comma-separated client ids of the ingest replicas, each its own account "
        "(default ENCOSTA_BROKER_INGEST_CLIENTS or encosta-ingest-1,encosta-ingest-2); "
        "ENCOSTA_MQTT_INGEST_PASSWORD, if set, is their password",
    )
    sync.set_defaults(func=_broker)
    init = broker_sub.add_parser(
        "init",
        help="write the dynamic-security plugin's first file (the admin account, password from "
        "ENCOSTA_MQTT_ADMIN_PASSWORD; everything else denied) unless it exists; for "
        "deployments (the local stack writes its own)",
    )
    init.add_argument("file", help="path the broker reads (plugin_opt_config_file)")
    init.set_defaults(func=_broker)


def _level(text: str) -> int:
    try:
        return manual.parse_level(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _log_level(text: str) -> str:
    try:
        return logs.check_level(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _service_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    text: str,
    *config_modules: str,
) -> argparse.ArgumentParser:
    """A service's subcommand; its ``--help`` lists the settings its config modules document."""
    import importlib  # noqa: PLC0415
    import textwrap  # noqa: PLC0415

    docs = [importlib.import_module(m).__doc__ or "" for m in config_modules]
    return sub.add_parser(
        name,
        help=text,
        description=textwrap.fill(text[0].upper() + text[1:] + ".", 78),
        epilog=manual.settings_epilog(*docs),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


SERVICE_SETTINGS = {  # the modules whose docstring tables document a service's variables
    "ingest": ("ingest.config", "ingest.broker", "runtime.settings"),
    "alerts": ("alerts.config", "runtime.settings"),
    "api": ("alerts.api.config", "runtime.settings"),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="encosta",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--log-level",
        type=_log_level,
        help=f"{', '.join(logs.LEVELS)} (default ENCOSTA_LOG_LEVEL or INFO)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    _add_database_commands(sub)
    duty.add_status_parser(sub)

    ingest = _service_parser(
        sub,
        "ingest",
        "run the MQTT -> TimescaleDB ingest service",
        *SERVICE_SETTINGS["ingest"],
    )
    _add_check(ingest)
    ingest.set_defaults(func=_ingest)

    alerts = _service_parser(
        sub,
        "alerts",
        "run the alert evaluator and webhook dispatcher; or list, show and acknowledge "
        "alerts (encosta alerts list|show|ack --help)",
        *SERVICE_SETTINGS["alerts"],
    )
    _add_check(alerts)
    duty.add_alerts_commands(alerts)
    alerts.set_defaults(func=_alerts)

    webhooks = sub.add_parser("webhooks", help="manage webhook subscriptions")
    webhooks.add_argument(
        "--dsn",
        help="database DSN (default: ENCOSTA_API_PG_DSN, ENCOSTA_PG_DSN or the local stack "
        "as encosta_api)",
    )
    webhooks_sub = webhooks.add_subparsers(dest="webhooks_command", required=True)
    add = webhooks_sub.add_parser(
        "add",
        help="subscribe a URL; prints the signing secret (loopback, private and reserved "
        "addresses are refused unless ENCOSTA_ALERTS_WEBHOOK_ALLOW_PRIVATE=1 or "
        "ENCOSTA_ALERTS_WEBHOOK_ALLOW_CIDRS allow them)",
    )
    add.add_argument("url")
    add.add_argument("--secret", help="whsec_<base64> secret (default: a fresh random one)")
    add.add_argument(
        "--min-level",
        type=_level,
        default=1,
        metavar="LEVEL",
        help=f"lowest alert level to send, by number or name: {manual.level_choices()} "
        "(default 1 attention)",
    )
    add.add_argument("--zone", action="append", help="only this zone (repeatable; default all)")
    add.add_argument(
        "--format",
        choices=["json", "cap"],
        default="json",
        help="json (default): the JSON event; cap: a CAP 1.2 XML alert (docs/alerts.md)",
    )
    _add_delivery_options(add)
    webhooks_sub.add_parser("list", help="list subscriptions")
    for name, text in (
        ("remove", "delete a subscription and its queued messages"),
        ("test", "send a signed test message to a subscription now"),
    ):
        action = webhooks_sub.add_parser(name, help=text)
        action.add_argument("id", type=int, help="the subscription's id (encosta webhooks list)")
    dead = webhooks_sub.add_parser("dead", help="list dead letters (messages given up on)")
    dead.add_argument("--subscription", type=int, help="only this subscription's")
    replay = webhooks_sub.add_parser("replay", help="send dead letters again (pending, due now)")
    replay.add_argument("message_id", nargs="?", help="one dead letter's message id")
    replay.add_argument("--subscription", type=int, help="every dead letter of this subscription")
    webhooks.set_defaults(func=_webhooks)

    api = _service_parser(sub, "api", "serve the ops HTTP API", *SERVICE_SETTINGS["api"])
    _add_check(api)
    api.set_defaults(func=_api)

    demo = sub.add_parser(
        "demo",
        help="replay a documented storm through MQTT, ingest, the alert engine and webhooks, "
        "and show what happened",
    )
    demo.add_argument(
        "--scenario",
        default="rio-2010-04",
        help="scenario to replay (default rio-2010-04; the others: encosta simulate --list)",
    )
    demo.add_argument("--seed", type=int, default=1, help="simulator seed (default 1)")
    demo.add_argument(
        "--database",
        default="encosta_demo",
        help="database to (re)create for the replay: a name starting with encosta_demo "
        "(default encosta_demo); dropped first only if an earlier demo created it",
    )
    demo.add_argument(
        "--speed",
        type=float,
        default=None,
        help="simulated seconds per wall-clock second (default: as fast as possible)",
    )
    demo.add_argument(
        "--report",
        metavar="DIR",
        help="write summary.json, report.md and PNG plots (zone levels, station map) here "
        "(default: ENCOSTA_STATE_DIR/demo-report, i.e. .state/demo-report)",
    )
    demo.add_argument(
        "--verbose", action="store_true", help="show the services' logs on stderr while it runs"
    )
    demo.add_argument(
        "--log-file", metavar="FILE", help="append the services' logs to FILE as JSON lines"
    )
    demo.set_defaults(func=_demo)

    simulate = simulators_cli.add_parser(sub)
    simulate.set_defaults(func=simulators_cli.run)

    backtest = backtest_command.add_parser(sub)
    backtest.set_defaults(func=backtest_command.run)
    reports_command.add_parser(sub)
    return parser


def _add_delivery_options(add: argparse.ArgumentParser) -> None:
    """``webhooks add``'s options of what a subscription hears."""
    add.add_argument(
        "--heartbeat",
        action="store_true",
        help="also send the periodic encosta.heartbeat (ENCOSTA_ALERTS_HEARTBEAT_S)",
    )
    add.add_argument(
        "--fallback",
        action="store_true",
        help="a fallback contact: only alerts unacknowledged for ENCOSTA_ALERTS_FALLBACK_MIN",
    )
    add.add_argument(
        "--audience",
        choices=["full", "siren", "broadcast"],
        default="full",
        help="full (default): every transition and field; siren: a community siren "
        "controller (raise, escalate, clear; zone, level, instruction); broadcast: an "
        "SMS/WhatsApp broadcaster (public wording and CAP link); siren and broadcast also "
        "print a receipt token for POST /alerts/{id}/receipts/{subscription} (docs/alerts.md)",
    )


def _add_check(service: argparse.ArgumentParser) -> None:
    service.add_argument(
        "--check",
        action="store_true",
        help="do not run: ask the running service's health endpoint on 127.0.0.1 (its port "
        "variable) and exit 0 healthy or 1, with a one-line reason (for healthchecks)",
    )


def _local_defaults() -> None:
    """Point the MQTT clients at the local stack's credentials store unless told otherwise."""
    if not os.environ.get("ENCOSTA_MQTT_CREDENTIALS"):
        store = stack.StackConfig.from_env(os.environ).credentials_file
        os.environ["ENCOSTA_MQTT_CREDENTIALS"] = str(store)


_DB_HINT = (
    "is the database up? Start the local stack with `encosta services up`, or point "
    "ENCOSTA_PG_DSN (or the service's ENCOSTA_<SERVICE>_PG_DSN) at yours"
)


def _failure(exc: BaseException) -> str | None:  # noqa: PLR0911  one answer per kind
    """One line for an error a newcomer can act on, or None for a bug (a traceback)."""
    if isinstance(
        exc, EncostaError | IngestError | AlertsError | RegistryError | ModelError | SimulatorError
    ):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"{exc.filename or exc}: no such file or directory; check the path (mkdir -p?)"
    if isinstance(exc, PermissionError):
        return f"{exc.filename or exc}: permission denied"
    if isinstance(
        exc,
        OSError | asyncpg.InvalidCatalogNameError | asyncpg.InvalidAuthorizationSpecificationError,
    ):
        return f"cannot reach the database or broker ({exc}); {_DB_HINT}"
    if isinstance(exc, asyncpg.UndefinedTableError | asyncpg.UndefinedColumnError):
        return f"the schema is not up to date ({exc}); run `encosta migrate`"
    if isinstance(exc, asyncpg.InsufficientPrivilegeError):
        return f"the database refused ({exc}); this command logs in as the role of its DSN"
    if isinstance(exc, TimeoutError):
        return f"timed out ({exc or 'no answer'}); {_DB_HINT}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``encosta`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        level = args.log_level or logs.check_level(
            Environment(os.environ).text("ENCOSTA_LOG_LEVEL", "INFO")
        )
    except ValueError as exc:
        parser.error(f"ENCOSTA_LOG_LEVEL: {exc}")
    logs.configure(level)
    try:
        _local_defaults()
        result: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        message = _failure(exc)
        if message is None:
            raise
        print(f"encosta: error: {message}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
