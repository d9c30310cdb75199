"""One settings mechanism: a variable read by several services means the same to each."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from alerts.api.config import ApiConfig
from alerts.config import DispatchConfig, EvaluatorConfig
from alerts.errors import AlertsError
from encosta import stack
from encosta.errors import EncostaError
from ingest.config import IngestConfig
from ingest.errors import IngestError
from runtime.settings import Environment, SettingError
from simulators.cli import broker_address
from simulators.errors import SimulatorError


def networks(environ: dict[str, str]) -> set[str]:
    """``ENCOSTA_NETWORK`` as ingest, the evaluator and the API read it."""
    return {
        IngestConfig.from_env(environ).network,
        EvaluatorConfig.from_env(environ).network,
        ApiConfig.from_env(environ).network,
    }


def mqtt_ports(environ: dict[str, str]) -> set[int]:
    """``ENCOSTA_MQTT_PORT`` as ingest, the local stack and the simulator read it."""
    return {
        IngestConfig.from_env(environ).mqtt_port,
        stack.StackConfig.from_env(environ).mqtt_port,
        broker_address(None, None, environ)[1],
    }


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, "rio"), ({"ENCOSTA_NETWORK": ""}, "rio"), ({"ENCOSTA_NETWORK": "niteroi"}, "niteroi")],
)
def test_network_is_the_same_for_every_service(environ: dict[str, str], expected: str) -> None:
    """Unset and empty ENCOSTA_NETWORK are both the default for ingest, alerts and the API."""
    assert networks(environ) == {expected}


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, 18830), ({"ENCOSTA_MQTT_PORT": ""}, 18830), ({"ENCOSTA_MQTT_PORT": "1883"}, 1883)],
)
def test_mqtt_port_is_the_same_for_every_reader(environ: dict[str, str], expected: int) -> None:
    """ENCOSTA_MQTT_PORT parses alike in ingest, the local stack and the simulator."""
    assert mqtt_ports(environ) == {expected}
    host = {"ENCOSTA_MQTT_HOST": ""}
    assert IngestConfig.from_env(host).mqtt_host == broker_address(None, None, host)[0]


@pytest.mark.parametrize("value", ["x", "0", "70000", "1883.5"])
def test_a_bad_mqtt_port_is_refused_by_every_reader_naming_it(value: str) -> None:
    """Each reader raises its own package's error, all naming the variable."""
    environ = {"ENCOSTA_MQTT_PORT": value}
    readers: list[tuple[type[Exception], Callable[[], object]]] = [
        (IngestError, lambda: IngestConfig.from_env(environ)),
        (EncostaError, lambda: stack.StackConfig.from_env(environ)),
        (SimulatorError, lambda: broker_address(None, None, environ)),
    ]
    for error, read in readers:
        with pytest.raises(error, match="ENCOSTA_MQTT_PORT") as info:
            read()
        assert getattr(info.value, "variable", None) == "ENCOSTA_MQTT_PORT"


def test_pg_port_sets_every_local_default_alike() -> None:
    """ENCOSTA_PG_PORT is the port of every service's local DSN and of the stack; bad is refused."""
    environ = {"ENCOSTA_PG_PORT": "6001"}
    dsns = [
        IngestConfig.from_env(environ).dsn,
        EvaluatorConfig.from_env(environ).dsn,
        DispatchConfig.from_env(environ).dsn,
        ApiConfig.from_env(environ).dsn,
        stack.owner_dsn(environ),
    ]
    assert all(":6001/encosta" in dsn for dsn in dsns)
    assert stack.StackConfig.from_env(environ).pg_port == 6001
    for read in (IngestConfig.from_env, EvaluatorConfig.from_env, ApiConfig.from_env):
        with pytest.raises((IngestError, AlertsError), match="ENCOSTA_PG_PORT"):
            read({"ENCOSTA_PG_PORT": "postgres"})


def test_variables_shared_by_alerts_and_the_api_agree() -> None:
    """The stale-interval count and webhook timeout read alike in the evaluator and the API."""
    environ = {"ENCOSTA_ALERTS_STALE_INTERVALS": "7", "ENCOSTA_ALERTS_TIMEOUT_S": "2.5"}
    assert EvaluatorConfig.from_env(environ).stale_intervals == 7
    assert ApiConfig.from_env(environ).stale_intervals == 7
    assert DispatchConfig.from_env(environ).timeout_s == 2.5
    assert ApiConfig.from_env(environ).webhook_timeout_s == 2.5


def test_readers_treat_empty_as_unset() -> None:
    """Every reader but ``optional`` gives the default for an empty value."""
    env = Environment({"A": ""})
    assert env.text("A", "d") == "d"
    assert env.text_or_none("A") is None
    assert env.integer("A", 3, 0, 9) == 3
    assert env.number("A", 0.5, 0, 1) == 0.5
    assert env.flag("A", default=True) is True
    assert env.optional("A", "group") is None
    assert Environment({}).optional("A", "group") == "group"


def test_reader_errors_name_the_variable_and_what_it_accepts() -> None:
    """Out of range, not a number, not a flag: SettingError by default, naming the variable."""
    env = Environment({"N": "12", "F": "maybe", "W": "2.5"})
    with pytest.raises(SettingError, match=r"N: 12 is outside \[0, 9\]") as info:
        env.integer("N", 1, 0, 9)
    assert info.value.variable == "N"
    with pytest.raises(SettingError, match=r"W: '2\.5' is not an integer"):
        env.integer("W", 1, 0, 9)
    with pytest.raises(SettingError, match="F: 'maybe': use 1 or 0"):
        env.flag("F")
    assert Environment({"F": " Yes "}).flag("F") is True
