"""Closed sets have one source: API literals, dashboards and the schema agree with the enums."""

from __future__ import annotations

import json
import re
from typing import Any, get_args

from alerts.api import schemas
from alerts.fallback import UNACKNOWLEDGED
from alerts.kind import AlertKind
from alerts.lifecycle import RECORDED, Transition
from alerts.outbox import OutboxStatus
from encosta import demo
from models import Level
from tests.conftest import REPO

MIGRATION = (REPO / "encosta" / "migrations" / "0002_alerts.sql").read_text()
DASHBOARDS = sorted((REPO / "deploy" / "grafana" / "dashboards").glob("*.json"))
LEVEL_NAMES = tuple(level.name.lower() for level in Level)


def check_values(table: str, column: str) -> set[str]:
    """The values a ``CHECK (column IN (...))`` constraint of ``table`` (migration 0002) allows."""
    found = re.search(
        rf"CREATE TABLE {table} \((?:(?!\n\);).)*?CHECK \({column} IN \(([^)]*)\)\)",
        MIGRATION,
        re.DOTALL,
    )
    assert found is not None, (table, column)
    return set(re.findall(r"'([^']*)'", found.group(1)))


def value_mappings() -> list[dict[str, Any]]:
    """Every value mapping's options in the provisioned dashboards."""
    found: list[dict[str, Any]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "value" and isinstance(node.get("options"), dict):
                found.append(node["options"])
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for path in DASHBOARDS:
        walk(json.loads(path.read_text()))
    return found


def test_level_names_come_from_models_level() -> None:
    """The API's level names, its literal type and the demo's table are models.Level's names."""
    assert get_args(schemas.LevelName) == LEVEL_NAMES
    assert [schemas.level_name(level) for level in Level] == list(LEVEL_NAMES)
    assert demo.LEVELS == LEVEL_NAMES


def test_dashboard_level_mappings_name_models_levels() -> None:
    """Every level value mapping of the dashboards shows "<n> <name>" for each models.Level."""
    levels = [m for m in value_mappings() if set(m) == {str(level.value) for level in Level}]
    assert levels, "no level value mapping found in the dashboards"
    for mapping in levels:
        assert {k: v["text"] for k, v in mapping.items()} == {
            str(level.value): f"{level.value} {level.name.lower()}" for level in Level
        }


def test_outbox_status_is_the_schema_and_the_dashboards() -> None:
    """OutboxStatus is what the outbox CHECK allows and what the dashboards colour."""
    assert check_values("outbox", "status") == set(OutboxStatus)
    statuses = [m for m in value_mappings() if set(m) & set(OutboxStatus)]
    assert statuses, "no outbox status mapping found in the dashboards"
    for mapping in statuses:
        assert set(mapping) == set(OutboxStatus)


def test_transitions_and_kinds_match_the_schema() -> None:
    """The API's transition and kind literals are the recorded ones (alert_events, alerts)."""
    assert (
        set(get_args(schemas.Transition))
        == set(RECORDED)
        == check_values("alert_events", "transition")
    )
    # The one transition that is sent but not recorded: the fallback escalation.
    assert set(Transition) - RECORDED == {Transition.UNACKNOWLEDGED}
    assert UNACKNOWLEDGED == Transition.UNACKNOWLEDGED
    kind = schemas.Alert.model_fields["kind"].annotation
    assert set(get_args(kind)) == set(AlertKind) == check_values("alerts", "kind")
