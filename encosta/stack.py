"""The local stack: private TimescaleDB and Mosquitto instances for the demo and the tests.

Both run under a project-local state directory on non-default loopback ports, as the
``postgres``/``mosquitto`` system users (PostgreSQL refuses to run as root). Every operation is
idempotent: ``up`` on a running stack checks it and returns.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from encosta.errors import ConfigError, StackError
from runtime import settings
from runtime.settings import Environment

REPO = Path(__file__).resolve().parent.parent
DATABASE = settings.DATABASE
OWNER = "postgres"  # the local cluster's superuser: owns the schema, runs migrate


@dataclass(frozen=True, slots=True)
class StackConfig:
    """Where the local services live.

    Environment variables and their defaults:
    ``ENCOSTA_STATE_DIR`` (``<repo>/.state``), ``ENCOSTA_PG_PORT`` (55432),
    ``ENCOSTA_MQTT_PORT`` (18830), ``ENCOSTA_MQTT_TLS_PORT`` (unset: no TLS listener).
    """

    state_dir: Path
    pg_port: int
    mqtt_port: int
    mqtt_tls_port: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> StackConfig:
        """Read the configuration from ``environ``; :class:`ConfigError` names a bad variable."""
        env = Environment(environ, ConfigError)
        return cls(
            state_dir=Path(env.text("ENCOSTA_STATE_DIR", str(REPO / ".state"))).resolve(),
            pg_port=settings.pg_port(env),
            mqtt_port=settings.mqtt_port(env),
            mqtt_tls_port=env.integer("ENCOSTA_MQTT_TLS_PORT", 0, 0, 65535),
        )

    @property
    def credentials_file(self) -> Path:
        """The broker credentials store (``{username: password}``, mode 0600)."""
        return self.state_dir / "secrets" / "mqtt-credentials.json"

    @property
    def tls_dir(self) -> Path:
        """The TLS listener's CA and server certificate, generated on first start."""
        return self.mqtt_dir / "tls"

    @property
    def ca_file(self) -> Path:
        """The CA certificate clients verify the TLS listener against."""
        return self.tls_dir / "ca.crt"

    @property
    def pg_dir(self) -> Path:
        """PostgreSQL data directory."""
        return self.state_dir / "pg" / "data"

    @property
    def pg_socket_dir(self) -> Path:
        """Directory of PostgreSQL's Unix socket."""
        return self.state_dir / "pg" / "run"

    @property
    def mqtt_dir(self) -> Path:
        """Mosquitto's persistence, log and config directory."""
        return self.state_dir / "mosquitto"

    def dsn(self, database: str = DATABASE, user: str = OWNER) -> str:
        """A libpq DSN for ``database`` on the local instance, as ``user`` (trust auth)."""
        return settings.local_dsn(user, self.pg_port, database)


def owner_dsn(environ: Mapping[str, str]) -> str:
    """The DSN of the schema owner, for ``migrate``, ``stations import`` and ``retention``.

    ``ENCOSTA_PG_OWNER_DSN``, else ``ENCOSTA_PG_DSN`` (as before roles existed), else the
    local stack's superuser.
    """
    env = Environment(environ, ConfigError)
    return (
        env.text_or_none("ENCOSTA_PG_OWNER_DSN")
        or env.text_or_none("ENCOSTA_PG_DSN")
        or StackConfig.from_env(environ).dsn()
    )


def _pg_bin() -> Path:
    versions = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin/postgres")),
        key=lambda p: int(p.parent.parent.name),
    )
    if not versions:
        raise StackError("PostgreSQL server binaries not found: run scripts/install-system.sh")
    return versions[-1].parent


def _as_user(user: str, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    command = [str(a) for a in args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", user, "--", *command]
    return subprocess.run(command, check=check, capture_output=True, text=True)  # noqa: S603


def _chown_tree(path: Path, user: str) -> None:
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        paths: list[str | Path] = [root, *(Path(root, d) for d in dirs)]
        paths += [Path(root, f) for f in files]
        for name in paths:
            os.chown(name, entry.pw_uid, entry.pw_gid)


def _open_path(path: Path) -> None:
    """Let the service users traverse into the state directory (it may sit under /root)."""
    for parent in [path, *path.parents]:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on now (for a private broker or server)."""
    with contextlib.closing(socket.socket()) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    with contextlib.closing(socket.socket()) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _wait_port(port: int, what: str, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise StackError(f"{what} did not open port {port} within {timeout:.0f} s; log:\n{tail}")


class Postgres:
    """The private PostgreSQL + TimescaleDB cluster."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.bin = _pg_bin()
        self.log = config.state_dir / "pg" / "postgres.log"

    def running(self) -> bool:
        """Whether the cluster accepts connections."""
        return port_open(self.config.pg_port)

    def init(self) -> None:
        """Create the cluster once."""
        if (self.config.pg_dir / "PG_VERSION").exists():
            return
        self.config.pg_dir.mkdir(parents=True, exist_ok=True)
        self.config.pg_socket_dir.mkdir(parents=True, exist_ok=True)
        _open_path(self.config.state_dir)
        _chown_tree(self.config.state_dir / "pg", "postgres")
        _as_user(
            "postgres",
            self.bin / "initdb",
            "-D",
            self.config.pg_dir,
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )
        settings = {
            "shared_preload_libraries": "'timescaledb'",
            "timescaledb.telemetry_level": "off",
            "max_connections": "200",
            "shared_buffers": "512MB",
            "synchronous_commit": "on",  # off could lose commits already acknowledged to MQTT
            "max_wal_size": "2GB",
            "timezone": "'UTC'",
        }
        with (self.config.pg_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# Encosta local stack\n")
            conf.writelines(f"{k} = {v}\n" for k, v in settings.items())

    def start(self) -> None:
        """Start the cluster and create the ``encosta`` database with TimescaleDB."""
        if self.running() and not (self.config.pg_dir / "postmaster.pid").exists():
            raise StackError(
                f"port {self.config.pg_port} is in use by a server that is not this stack's "
                f"PostgreSQL (no postmaster.pid under {self.config.pg_dir}): stop it, or set "
                "ENCOSTA_PG_PORT to a free port"
            )
        self.init()
        if not self.running():
            options = (
                f"-p {self.config.pg_port} -k {self.config.pg_socket_dir} "
                "-c listen_addresses=127.0.0.1"
            )
            result = _as_user(
                "postgres",
                self.bin / "pg_ctl",
                "-D",
                self.config.pg_dir,
                "-o",
                options,
                "-l",
                self.log,
                "-w",
                "-t",
                "60",
                "start",
                check=False,
            )
            if result.returncode != 0:
                tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
                raise StackError(f"pg_ctl start failed: {result.stderr.strip()}\n{tail}")
        _wait_port(self.config.pg_port, "PostgreSQL", self.log)
        exists = self.psql("postgres", f"SELECT 1 FROM pg_database WHERE datname='{DATABASE}'")  # noqa: S608  a constant
        if exists.strip() != "1":
            self.psql("postgres", f"CREATE DATABASE {DATABASE}")
        self.psql(DATABASE, "CREATE EXTENSION IF NOT EXISTS timescaledb")

    def stop(self, mode: str = "fast") -> None:
        """Stop the cluster (``mode``: smart, fast or immediate)."""
        if (self.config.pg_dir / "postmaster.pid").exists():
            _as_user(
                "postgres",
                self.bin / "pg_ctl",
                "-D",
                self.config.pg_dir,
                "-m",
                mode,
                "-w",
                "stop",
                check=False,
            )

    def psql(self, database: str, sql: str) -> str:
        """Run ``sql`` with psql and return its unaligned output."""
        result = subprocess.run(  # noqa: S603
            [
                str(self.bin / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.config.pg_port),
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                sql,
            ],
            check=False,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise StackError(f"psql failed: {result.stderr.strip()}")
        return result.stdout


class Mosquitto:
    """The private Mosquitto broker."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.conf = config.mqtt_dir / "mosquitto.conf"
        self.pidfile = config.mqtt_dir / "mosquitto.pid"
        self.log = config.mqtt_dir / "mosquitto.log"

    def running(self) -> bool:
        """Whether the broker accepts connections."""
        return port_open(self.config.mqtt_port)

    def start(self) -> None:
        """Write the config and start the broker, daemonised; restart it if the config changed."""
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise StackError("mosquitto not found: run scripts/install-system.sh")
        if self.running() and self._owned_pid() is None:
            raise StackError(
                f"port {self.config.mqtt_port} is in use by a process that is not this "
                f"stack's Mosquitto (no live pid in {self.pidfile}): stop it, or set "
                "ENCOSTA_MQTT_PORT to a free port"
            )
        self.config.mqtt_dir.mkdir(parents=True, exist_ok=True)
        _open_path(self.config.state_dir)
        user = "mosquitto" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self._security_file()
        text = self.config_text(user)
        if self.running():
            if self.conf.exists() and self.conf.read_text() == text:
                return
            self.stop()  # an older configuration (e.g. before authentication): apply this one
        self.conf.write_text(text)
        _chown_tree(self.config.mqtt_dir, user)
        subprocess.run([binary, "-c", str(self.conf), "-d"], check=True)  # noqa: S603
        _wait_port(self.config.mqtt_port, "Mosquitto", self.log)
        if self.config.mqtt_tls_port:
            _wait_port(self.config.mqtt_tls_port, "Mosquitto (TLS)", self.log)

    def config_text(self, user: str) -> str:
        """The broker's configuration file for this stack."""
        template = (REPO / "deploy" / "mosquitto" / "mosquitto.conf.in").read_text()
        tls = ""
        if self.config.mqtt_tls_port:
            self._certificates()
            d = self.config.tls_dir
            tls = (
                f"listener {self.config.mqtt_tls_port} 127.0.0.1\n"
                f"cafile {d / 'ca.crt'}\ncertfile {d / 'server.crt'}\nkeyfile {d / 'server.key'}\n"
                "tls_version tlsv1.2"
            )
        text = (
            template.replace("@PORT@", str(self.config.mqtt_port))
            .replace("@TLS_LISTENER@", tls)
            .replace("@DYNSEC_PLUGIN@", str(dynsec_plugin()))
            .replace("@STATE@", str(self.config.mqtt_dir))
            .replace("@USER@", user)
        )
        return text + f"pid_file {self.pidfile}\n"

    def _security_file(self) -> None:
        """Create the dynamic-security file with the admin account, once."""
        from encosta import credentials, dynsec  # noqa: PLC0415  keeps the stack light

        store = credentials.ensure(self.config.credentials_file, [dynsec.ADMIN_USERNAME])
        path = self.config.mqtt_dir / "dynamic-security.json"
        dynsec.write_initial_config(path, store[dynsec.ADMIN_USERNAME])

    def _certificates(self) -> None:
        """A private CA and a server certificate for 127.0.0.1/localhost (never committed)."""
        d = self.config.tls_dir
        if (d / "server.crt").exists():
            return
        d.mkdir(parents=True, exist_ok=True)
        openssl = shutil.which("openssl")
        if openssl is None:
            raise StackError("openssl not found: run scripts/install-system.sh")

        def run(*args: str) -> None:
            subprocess.run([openssl, *args], check=True, capture_output=True, cwd=d)  # noqa: S603

        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj",
            "/CN=Encosta local CA", "-keyout", "ca.key", "-out", "ca.crt")  # fmt: skip
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-keyout", "server.key", "-out", "server.csr")  # fmt: skip
        (d / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "30", "-extfile", "san.ext",
            "-out", "server.crt")  # fmt: skip
        (d / "ca.key").unlink()

    def _owned_pid(self) -> int | None:
        """The pid of this stack's broker, if its pid file names a live process."""
        try:
            pid = int(self.pidfile.read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def kill(self) -> None:
        """Kill the broker with SIGKILL, as a crash would: no final save of its state."""
        pid = self._owned_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and port_open(self.config.mqtt_port):
            time.sleep(0.05)
        self.pidfile.unlink(missing_ok=True)

    def stop(self) -> None:
        """Stop the broker (it saves its persistence file on SIGTERM)."""
        if not self.pidfile.exists():
            return
        with contextlib.suppress(ValueError, ProcessLookupError):
            pid = int(self.pidfile.read_text().strip())
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
        self.pidfile.unlink(missing_ok=True)


def dynsec_plugin() -> Path:
    """Mosquitto's dynamic-security plugin, wherever this machine's package put it."""
    found = sorted(Path("/usr/lib").glob("*/mosquitto_dynamic_security.so"))
    found += sorted(Path("/usr/lib").glob("mosquitto_dynamic_security.so"))
    if not found:
        raise StackError("mosquitto_dynamic_security.so not found: run scripts/install-system.sh")
    return found[0]


def up(config: StackConfig) -> None:
    """Start both services (idempotent)."""
    Postgres(config).start()
    Mosquitto(config).start()


def down(config: StackConfig) -> None:
    """Stop both services."""
    Mosquitto(config).stop()
    Postgres(config).stop()


def status(config: StackConfig) -> dict[str, str]:
    """A line of status for each service."""
    pg = Postgres(config)
    mq = Mosquitto(config)
    return {
        "timescaledb": f"{'up' if pg.running() else 'down'} {config.dsn()}",
        "mosquitto": f"{'up' if mq.running() else 'down'} mqtt://127.0.0.1:{config.mqtt_port}",
    }
