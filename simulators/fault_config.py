"""Fault settings of a scenario: random rates and scheduled fault events.

Rates are probabilities per report, per message or per reading, episodes per station-day, or
shares of stations, as each field's comment says. ``[[faults.events]]`` schedule a fault at a
given station or zone gateway, for demonstrations and for tests that need one exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulators.schema import Section

EVENT_KINDS = ("dropout", "stuck", "drift", "spike", "low_battery", "clock_skew", "outage")


@dataclass(frozen=True, slots=True)
class FaultRates:
    """Random faults; every rate 0 means a perfect network."""

    dropout: float = 0.0  # probability a report is lost on the radio link
    spike: float = 0.0  # probability a reading is replaced by a spike
    spike_out_of_range: float = 0.5  # share of spikes outside the plausible range
    duplicate: float = 0.0  # probability a message is sent twice (lost PUBACK)
    out_of_order: float = 0.0  # probability a message is delivered after later ones
    stuck_per_day: float = 0.0  # stuck-sensor episodes per station-day
    stuck_h: float = 6.0  # mean episode length
    drift_per_day: float = 0.0  # drifting soil-moisture probe episodes per station-day
    drift_h: float = 24.0
    drift_per_h: float = 0.003  # m3/m3 per hour
    clock_skew: float = 0.0  # share of stations whose clock is off by up to clock_skew_max_s
    clock_skew_max_s: float = 120.0
    clock_reset: float = 0.0  # share of stations whose RTC reset to 2000-01-01 (ts_past)
    low_battery: float = 0.0  # share of stations whose battery runs down during the run
    outage_per_day: float = 0.0  # gateway outages per zone-day, then a backlog burst
    outage_h: float = 2.0
    outage_overlap: int = 1  # reports sent before the outage that the burst repeats


@dataclass(frozen=True, slots=True)
class FaultEvent:
    """One scheduled fault: ``target`` is a station id, or a zone id for ``outage``."""

    kind: str
    target: str
    start_h: float
    duration_h: float
    quantity: str | None = None
    magnitude: float | None = None


@dataclass(frozen=True, slots=True)
class Faults:
    """All fault settings of a scenario."""

    rates: FaultRates = field(default_factory=FaultRates)
    events: tuple[FaultEvent, ...] = ()


def parse_faults(section: Section, duration_h: float) -> Faults:
    """Read the ``[faults]`` table."""
    p = section.number
    rates = FaultRates(
        dropout=p("dropout", 0.0, 0.9, 0.0),
        spike=p("spike", 0.0, 0.5, 0.0),
        spike_out_of_range=p("spike_out_of_range", 0.0, 1.0, 0.5),
        duplicate=p("duplicate", 0.0, 0.9, 0.0),
        out_of_order=p("out_of_order", 0.0, 0.9, 0.0),
        stuck_per_day=p("stuck_per_day", 0.0, 24.0, 0.0),
        stuck_h=p("stuck_h", 0.1, 240.0, 6.0),
        drift_per_day=p("drift_per_day", 0.0, 24.0, 0.0),
        drift_h=p("drift_h", 0.1, 720.0, 24.0),
        drift_per_h=p("drift_per_h", -0.1, 0.1, 0.003),
        clock_skew=p("clock_skew", 0.0, 1.0, 0.0),
        # Beyond ~240 s a skewed clock runs into ingest's 300 s future limit: use clock_reset.
        clock_skew_max_s=p("clock_skew_max_s", 0.0, 240.0, 120.0),
        clock_reset=p("clock_reset", 0.0, 1.0, 0.0),
        low_battery=p("low_battery", 0.0, 1.0, 0.0),
        outage_per_day=p("outage_per_day", 0.0, 24.0, 0.0),
        outage_h=p("outage_h", 0.05, 72.0, 2.0),
        outage_overlap=int(p("outage_overlap", 0, 10, 1)),
    )
    events = []
    for event in section.sections("events"):
        events.append(
            FaultEvent(
                kind=event.text("kind", EVENT_KINDS),
                target=event.text("target"),
                start_h=event.number("start_h", 0.0, duration_h),
                duration_h=event.number("duration_h", 0.0, duration_h, duration_h),
                quantity=event.text("quantity") if event.has("quantity") else None,
                magnitude=event.optional_number("magnitude", -1.0e4, 1.0e4),
            )
        )
        event.finish()
    section.finish()
    return Faults(rates, tuple(events))
