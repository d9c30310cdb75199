"""Help that reads like a manual, and every environment variable documented."""

from __future__ import annotations

import argparse
import importlib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from alerts.api.config import ApiConfig
from alerts.config import DispatchConfig, EvaluatorConfig
from encosta.cli import SERVICE_SETTINGS, build_parser
from encosta.manual import settings_rows
from ingest.config import IngestConfig

REPO = Path(__file__).resolve().parents[2]
MARKUP = re.compile(r"``|:(class|func|mod|meth|attr):`")
VARIABLE = re.compile(r"ENCOSTA_[A-Z0-9_]*[A-Z0-9]")


class Recording(Mapping[str, str]):
    """An empty environment that remembers every variable asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        """Record ``key``; it is never set."""
        self.asked.add(key)
        return default

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.asked.add(key)
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def help_of(*argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    """What ``encosta ARGV --help`` prints."""
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*argv, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def all_commands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    """Every command path of ``parser`` (``("webhooks", "add")``…)."""
    yield prefix
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from all_commands(child, (*prefix, name))


@pytest.mark.parametrize("argv", list(all_commands(build_parser())), ids=" ".join)
def test_help_is_plain_text(argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    """No reST markup (double backquotes, :class: roles) in any command's ``--help``."""
    text = help_of(*argv, capsys=capsys)
    assert not MARKUP.search(text), text
    assert "add_parser(" not in text


@pytest.mark.parametrize(
    ("service", "configs"),
    [
        ("ingest", [IngestConfig]),
        ("alerts", [EvaluatorConfig, DispatchConfig]),
        ("api", [ApiConfig]),
    ],
)
def test_service_help_lists_every_setting_it_reads(
    service: str, configs: list[type], capsys: pytest.CaptureFixture[str]
) -> None:
    """Each variable ``from_env`` reads is in ``--help`` with its default and meaning."""
    text = help_of(service, capsys=capsys)
    environ = Recording()
    for config in configs:
        config.from_env(environ)  # type: ignore[attr-defined]
    assert environ.asked
    documented = {
        row[0]
        for module in SERVICE_SETTINGS[service]
        for row in settings_rows(importlib.import_module(module).__doc__ or "")
    }
    for variable in environ.asked:
        assert variable in text, variable
        assert variable in documented, variable
    assert "default " in text


@pytest.mark.parametrize(
    ("service", "configs"),
    [
        ("ingest", [IngestConfig]),
        ("alerts", [EvaluatorConfig, DispatchConfig]),
        ("api", [ApiConfig]),
    ],
)
def test_service_help_lists_no_setting_it_does_not_read(
    service: str, configs: list[type], capsys: pytest.CaptureFixture[str]
) -> None:
    """No dangling variable: each one a service's ``--help`` lists is one it reads."""
    text = help_of(service, capsys=capsys)
    settings = text[text.index("settings (environment variables") :]
    environ = Recording()
    for config in configs:
        config.from_env(environ)  # type: ignore[attr-defined]
    listed = set(VARIABLE.findall(settings))
    assert listed
    # ENCOSTA_LOG_LEVEL is read by the command line itself (encosta.cli.main), for every service.
    dangling = listed - environ.asked - {"ENCOSTA_LOG_LEVEL"}
    assert not dangling, dangling


def test_simulate_help_shows_the_port_it_will_use(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``simulate --help``: the default port honours ENCOSTA_MQTT_PORT; no developer docstring."""
    monkeypatch.setenv("ENCOSTA_MQTT_PORT", "18999")
    text = help_of("simulate", capsys=capsys)
    assert "default 18999" in text
    assert "add_parser" not in text


def test_levels_are_named_where_a_number_stands_for_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``webhooks add --min-level`` says what each level means."""
    text = " ".join(help_of("webhooks", "add", capsys=capsys).split())
    assert "0 normal, 1 attention, 2 alert, 3 crisis" in text


def linked_docs() -> str:
    """The README and every docs/ file it links."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    docs = sorted(set(re.findall(r"docs/[a-z0-9_-]+\.md", readme)))
    assert docs
    return readme + "".join((REPO / d).read_text(encoding="utf-8") for d in docs)


def variables_read() -> dict[str, str]:
    """Every ENCOSTA_* variable named in the shipped code and scripts -> one file naming it."""
    found: dict[str, str] = {}
    packages = ("encosta", "ingest", "alerts", "models", "simulators", "runtime", "scripts")
    for package in packages:
        for path in sorted((REPO / package).rglob("*")):
            if path.suffix in {".py", ".sh"}:
                for name in VARIABLE.findall(path.read_text(encoding="utf-8")):
                    found.setdefault(name, str(path.relative_to(REPO)))
    return found


def test_every_environment_variable_is_documented() -> None:
    """Every ENCOSTA_* variable the code reads appears in the README or the docs it links."""
    docs = linked_docs()
    found = variables_read()
    assert "ENCOSTA_MQTT_PORT" in found
    missing = {name: where for name, where in found.items() if name not in docs}
    assert not missing, missing


def test_reliability_role_matrix_lists_every_table() -> None:
    """docs/reliability.md's role matrix has a row for every table test_roles.MATRIX decides."""
    from tests.encosta.test_roles import MATRIX  # noqa: PLC0415  the suite's own record of grants

    text = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    matrix = text[text.index("#### Role matrix") : text.index("Why each grant")]
    rows = set(re.findall(r"^\| `([a-z0-9_]+)`", matrix, flags=re.MULTILINE))
    missing = set(MATRIX) - rows
    assert not missing, f"add these tables to docs/reliability.md's role matrix: {missing}"
