"""``encosta simulate``: generate a scenario and publish it, or write it to files.

``add_parser(subparsers)`` registers the subcommand; ``run(args)`` executes it and returns the
exit code (0 done, 1 bad input or broker refused, 130 stopped by Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from ingest.broker import BrokerLogin, load_credentials
from ingest.errors import IngestError
from registry.errors import RegistryError
from registry.format import load_registry
from runtime import settings
from runtime.settings import Environment
from simulators.errors import ConfigError, SimulatorError
from simulators.output import write_messages, write_run
from simulators.progress import Progress
from simulators.publisher import CLIENT_MODES, PublishStats, publish
from simulators.run import Run, end_now_anchor, generate
from simulators.scenario import Scenario, available, load_scenario

_log = logging.getLogger("simulators")
DESCRIPTION = """\
Generate a storm scenario over the station registry, with the sensor faults of a real
network, and publish it over MQTT as the field gateways would (QoS 1, one client per zone
gateway), at simulated speed; or write the messages to a file instead.

Exit status: 0 done, 1 bad input or the broker refused, 130 stopped by Ctrl-C or SIGTERM.
Examples:
  encosta simulate --list
  encosta simulate --scenario rio-2010-04 --speed max
  encosta simulate --scenario summer-cells --to-file /tmp/messages.jsonl --out /tmp/run
"""
ANCHORS = "end-now (default), start-now, original, or a date-time such as 2026-11-24T00:00Z"


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"speed must be a number or 'max', not {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("speed must be positive")
    return value


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register ``simulate`` on the composition root's subparsers."""
    parser = subparsers.add_parser(
        "simulate",
        help="replay a storm scenario as field stations would send it",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``simulate`` (shared with ``python -m simulators``)."""
    parser.add_argument(
        "--scenario", help=f"name ({', '.join(available())}) or path to a TOML file"
    )
    parser.add_argument("--list", action="store_true", help="list the shipped scenarios and exit")
    parser.add_argument("--registry", type=Path, help="station registry (default: the scenario's)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--speed",
        type=_speed,
        default=3600.0,
        help="simulated seconds per wall second, or 'max' (default 3600)",
    )
    parser.add_argument("--anchor", default="end-now", help=f"where simulated time sits: {ANCHORS}")
    parser.add_argument("--no-faults", action="store_true", help="a perfect network")
    parser.add_argument(
        "--out", type=Path, help="write ground truth, manifest and sent messages here"
    )
    parser.add_argument(
        "--to-file", type=Path, help="write messages as JSON lines instead of publishing"
    )
    # The defaults shown are what the run will use: ENCOSTA_MQTT_HOST and _PORT if set.
    try:
        host, port = broker_address(None, None, os.environ)
    except ConfigError as exc:
        host, port = settings.LOCAL_HOST, settings.DEFAULT_MQTT_PORT
        _log.warning("%s; --help shows the local stack's defaults", exc)
    parser.add_argument(
        "--host",
        help=f"MQTT broker (default {host}: ENCOSTA_MQTT_HOST, else 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        help=f"MQTT port (default {port}: ENCOSTA_MQTT_PORT, else 18830, the local stack)",
    )
    parser.add_argument(
        "--clients",
        choices=CLIENT_MODES,
        default="zone",
        help="one MQTT client per zone gateway (default) or per station",
    )
    parser.add_argument(
        "--credentials",
        type=Path,
        help="JSON file of the gateways' and stations' broker passwords, {username: password} "
        "(env ENCOSTA_MQTT_CREDENTIALS; default: the local stack's store). Clients log in as "
        "gateway.<network>.<zone> or station.<network>.<id>; ENCOSTA_MQTT_CA_FILE turns on TLS",
    )


def broker_address(
    host: str | None, port: int | None, environ: Mapping[str, str]
) -> tuple[str, int]:
    """``--host`` and ``--port``, else ``ENCOSTA_MQTT_HOST`` and ``_PORT`` as services read them."""
    env = Environment(environ, ConfigError)
    return host or settings.mqtt_host(env), settings.mqtt_port(env) if port is None else port


def resolve_anchor(text: str, scenario: Scenario, now: float | None = None) -> float:
    """Epoch of simulated time zero for an ``--anchor`` value."""
    now = time.time() if now is None else now
    if text == "end-now":
        return end_now_anchor(scenario, now)
    if text == "start-now":
        return now // scenario.step_s * scenario.step_s
    if text == "original":
        return scenario.start.timestamp()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SimulatorError(f"--anchor {text!r} is not one of: {ANCHORS}") from None
    if moment.tzinfo is None:
        raise SimulatorError(f"--anchor {text!r} needs a UTC offset, e.g. {text}Z")
    return moment.timestamp()


async def _publish(run_: Run, args: argparse.Namespace) -> PublishStats:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    progress = Progress(sys.stderr, tty=sys.stderr.isatty())
    store = args.credentials or os.environ.get("ENCOSTA_MQTT_CREDENTIALS")
    passwords = load_credentials(Path(store)) if store else {}
    try:
        return await publish(
            run_.messages,
            args.host,
            args.port,
            args.speed,
            clients=args.clients,
            login=BrokerLogin(ca_file=os.environ.get("ENCOSTA_MQTT_CA_FILE") or None),
            passwords=passwords,
            stop=stop,
            on_progress=progress,
        )
    finally:
        progress.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def check_pace(anchor: float, scenario: Scenario, speed: float | None, now: float) -> None:
    """Refuse a run that would publish readings before their device time (ts_future rejects).

    Faster than real time, the messages of a run that ends after ``now`` are sent before the
    moments they describe; ingest rejects such device times as from the future. Replays at
    speed end in the past (the default ``end-now`` anchor); a future end needs ``--speed 1``.
    """
    end = anchor + scenario.steps * scenario.step_s
    if end > now + scenario.step_s and (speed is None or speed > 1.0):
        pace = "max" if speed is None else f"{speed:g}"
        ends = datetime.fromtimestamp(end, UTC).strftime("%Y-%m-%d %H:%M")
        raise SimulatorError(
            f"--speed {pace} with a run ending after now ({ends} UTC) would send readings before"
            " their device time, which ingest rejects as ts_future: use the default --anchor"
            " end-now to replay faster, or --speed 1"
        )


def _check_directory(target: Path | None) -> None:
    if target is not None and not target.parent.is_dir():
        raise SimulatorError(
            f"--to-file {target}: the directory {target.parent} does not exist; create it "
            f"first (mkdir -p {target.parent})"
        )


def run(args: argparse.Namespace) -> int:
    """Execute ``simulate``; return the process exit code."""
    if args.list:
        for name in available():
            print(f"{name:24} {load_scenario(name).title}")  # noqa: T201  the listing is output
        return 0
    if not args.scenario:
        print("simulate: --scenario is required (see --list)", file=sys.stderr)  # noqa: T201
        return 1
    try:
        scenario = load_scenario(args.scenario)
        registry = load_registry(args.registry or scenario.registry)
        anchor = resolve_anchor(args.anchor, scenario)
        if not args.to_file:
            check_pace(anchor, scenario, args.speed, time.time())
        _check_directory(args.to_file)
        args.host, args.port = broker_address(args.host, args.port, os.environ)
        run_ = generate(scenario, registry, args.seed, anchor, faults=not args.no_faults)
    except (SimulatorError, IngestError, RegistryError) as exc:
        print(f"simulate: {exc}", file=sys.stderr)  # noqa: T201  user-facing error
        return 1
    m = run_.manifest
    _log.info(
        "%s seed %d anchor %s: %d messages, %d readings (%d to be rejected)",
        scenario.name,
        args.seed,
        datetime.fromtimestamp(anchor).astimezone().isoformat(),
        m.messages,
        m.total_sent,
        len(m.rejections),
    )
    if args.to_file:
        write_messages(args.to_file, run_.messages)
        if args.out:
            write_run(args.out, run_)
        return 0
    stats = asyncio.run(_publish(run_, args))
    if args.out:
        write_run(args.out, run_, stats.delivered)
    _log.info("published %d of %d messages (%d retries)", stats.acked, stats.total, stats.retries)
    return 130 if stats.interrupted else 0
