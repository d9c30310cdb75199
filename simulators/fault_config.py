"""Fault settings of a scenario: random rates and scheduled fault events.

Rates are probabilities per report, per message or per reading, episodes per station-day, or
shares of stations, as each field's comment says. ``[[faults.events]]`` schedule a fault at a
given station or zone gateway, for demonstrations and for tests that need one exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Literal, get_args

import msgspec

from simulators.errors import ScenarioError
from simulators.schema import convert, within

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

_M = msgspec.Meta
_Share = Annotated[float, _M(ge=0.0, le=1.0)]
_Rate = Annotated[float, _M(ge=0.0, le=0.9)]
_PerDay = Annotated[float, _M(ge=0.0, le=24.0)]
_Kind = Literal["dropout", "stuck", "drift", "spike", "low_battery", "clock_skew", "outage"]

EVENT_KINDS: tuple[str, ...] = get_args(_Kind)


@dataclass(frozen=True, slots=True)
class FaultRates:
    """Random faults; every rate 0 means a perfect network."""

    dropout: _Rate = 0.0  # probability a report is lost on the radio link
    spike: Annotated[float, _M(ge=0.0, le=0.5)] = (
        0.0  # probability a reading is replaced by a spike
    )
    spike_out_of_range: _Share = 0.5  # share of spikes outside the plausible range
    duplicate: _Rate = 0.0  # probability a message is sent twice (lost PUBACK)
    out_of_order: _Rate = 0.0  # probability a message is delivered after later ones
    stuck_per_day: _PerDay = 0.0  # stuck-sensor episodes per station-day
    stuck_h: Annotated[float, _M(ge=0.1, le=240.0)] = 6.0  # mean episode length
    drift_per_day: _PerDay = 0.0  # drifting soil-moisture probe episodes per station-day
    drift_h: Annotated[float, _M(ge=0.1, le=720.0)] = 24.0
    drift_per_h: Annotated[float, _M(ge=-0.1, le=0.1)] = 0.003  # m3/m3 per hour
    clock_skew: _Share = 0.0  # share of stations whose clock is off by up to clock_skew_max_s
    # Beyond ~240 s a skewed clock runs into ingest's 300 s future limit: use clock_reset.
    clock_skew_max_s: Annotated[float, _M(ge=0.0, le=240.0)] = 120.0
    clock_reset: _Share = 0.0  # share of stations whose RTC reset to 2000-01-01 (ts_past)
    low_battery: _Share = 0.0  # share of stations whose battery runs down during the run
    outage_per_day: _PerDay = 0.0  # gateway outages per zone-day, then a backlog burst
    outage_h: Annotated[float, _M(ge=0.05, le=72.0)] = 2.0
    outage_overlap: Annotated[int, _M(ge=0, le=10)] = (
        1  # reports sent before the outage that the burst repeats
    )


@dataclass(frozen=True, slots=True)
class FaultEvent:
    """One scheduled fault: ``target`` is a station id, or a zone id for ``outage``."""

    kind: _Kind
    target: str
    start_h: Annotated[float, _M(ge=0.0)]
    duration_h: Annotated[float, _M(ge=0.0)]
    quantity: str | None = None
    magnitude: Annotated[float, _M(ge=-1.0e4, le=1.0e4)] | None = None


@dataclass(frozen=True, slots=True)
class Faults:
    """All fault settings of a scenario."""

    rates: FaultRates = field(default_factory=FaultRates)
    events: tuple[FaultEvent, ...] = ()


def parse_faults(table: dict[str, object], duration_h: float, source: str) -> Faults:
    """Read the ``[faults]`` table: rates, and ``[[faults.events]]`` within the run."""
    rates = {k: v for k, v in table.items() if k != "events"}
    raw_events = convert(table.get("events", []), list[dict[str, object]], source, "faults.events")
    events = []
    for i, raw in enumerate(raw_events):
        prefix = f"faults.events[{i}]."
        event = convert({"duration_h": duration_h} | raw, FaultEvent, source, prefix)
        within(event, ("start_h", "duration_h"), duration_h, source, prefix)
        events.append(event)
    return Faults(convert(rates, FaultRates, source, "faults."), tuple(events))


def check_events(
    faults: Faults,
    source: str,
    stations: Collection[str],
    zones: Collection[str],
    quantities: Sequence[str],
) -> None:
    """Refuse a scheduled fault aimed at nothing the registry and its telemetry have."""
    for i, event in enumerate(faults.events):
        prefix = f"faults.events[{i}]."
        if event.kind == "outage":
            if event.target not in zones:
                raise ScenarioError(
                    f"= {event.target!r}: an outage silences a zone's gateway; the registry's "
                    f"zones: {', '.join(sorted(zones))}",
                    path=source,
                    field=prefix + "target",
                )
        elif event.target not in stations:
            raise ScenarioError(
                f"= {event.target!r} is not an active station of the registry",
                path=source,
                field=prefix + "target",
            )
        if event.quantity is not None and event.quantity not in quantities:
            raise ScenarioError(
                f"= {event.quantity!r} is not a reported quantity; one of: {', '.join(quantities)}",
                path=source,
                field=prefix + "quantity",
            )
