"""Storm definitions of a scenario: documented replays, design storms and moving rain cells.

A scenario lists ``[[storms]]``; their rain adds up. Each kind is a frozen dataclass that
declares its TOML table's schema (types and ranges); :func:`parse_storm` picks the kind and
names the field and the allowed range of anything it rejects.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import msgspec

from simulators.errors import ScenarioError
from simulators.hyetograph import Hyetograph, load_hyetograph
from simulators.schema import convert, within

_M = msgspec.Meta
_Jitter = Annotated[float, _M(ge=0.0, le=1.0)]
_Hours = Annotated[float, _M(ge=0.0)]  # and within the scenario: checked by parse_storm


@dataclass(frozen=True, slots=True)
class ReplayStorm:
    """A documented storm replayed from gauge mass curves, interpolated to the stations.

    ``transpose_to`` (lat, lon) moves the gauges' centroid there (storm transposition), and
    ``footprint_km`` lets rain fade with distance from the nearest gauge beyond the cluster.
    """

    hyetograph: Hyetograph
    scale: Annotated[float, _M(ge=0.0, le=5.0)] = 1.0
    jitter: _Jitter = 0.0
    transpose_to: (
        tuple[Annotated[float, _M(ge=-90.0, le=90.0)], Annotated[float, _M(ge=-180.0, le=180.0)]]
        | None
    ) = None
    footprint_km: Annotated[float, _M(ge=0.5, le=500.0)] | None = None


@dataclass(frozen=True, slots=True)
class DesignStorm:
    """A synthetic storm of a return period and duration from an IDF curve.

    Intensity ``i = k * T**a / (t + b)**c`` (mm/h; T years, t minutes), the Sherman form used
    for Brazilian IDF equations; blocks arranged by the alternating-block method
    (Chow, Maidment and Mays 1988, section 14.4), peak at ``peak_at`` of the duration.
    """

    return_period_y: Annotated[float, _M(ge=1.0, le=10000.0)]
    duration_h: Annotated[float, _M(ge=0.25, le=96.0)]
    start_h: _Hours
    idf_k: Annotated[float, _M(ge=1.0, le=1.0e5)] = 1239.0
    idf_a: Annotated[float, _M(ge=0.0, le=1.0)] = 0.15
    idf_b_min: Annotated[float, _M(ge=0.0, le=120.0)] = 20.0
    idf_c: Annotated[float, _M(ge=0.1, le=1.5)] = 0.74
    peak_at: Annotated[float, _M(ge=0.0, le=1.0)] = 0.4
    jitter: _Jitter = 0.2


@dataclass(frozen=True, slots=True)
class CellStorm:
    """Convective cells born at random, moving with the steering wind, Gaussian in space."""

    start_h: _Hours
    duration_h: Annotated[float, _M(ge=0.1)]
    cells_per_h: Annotated[float, _M(ge=0.0, le=200.0)]
    lifetime_h: Annotated[float, _M(ge=0.1, le=24.0)]
    radius_km: Annotated[float, _M(ge=0.2, le=100.0)]
    peak_mm_h: Annotated[float, _M(ge=0.0, le=250.0)]
    speed_kmh: Annotated[float, _M(ge=0.0, le=150.0)]
    heading_deg: Annotated[float, _M(ge=0.0, le=360.0)]  # moving towards, clockwise from north
    jitter: _Jitter = 0.3


Storm = ReplayStorm | DesignStorm | CellStorm


class StormKind(StrEnum):
    """The kinds of ``[[storms]]`` table."""

    REPLAY = "replay"
    DESIGN = "design"
    CELLS = "cells"


KINDS = tuple(k.value for k in StormKind)


@dataclass(frozen=True, slots=True)
class _Kinded:
    kind: StormKind


def parse_storm(table: dict[str, object], path: Path, duration_h: float, prefix: str) -> Storm:
    """Build the storm ``[[storms]]`` table of scenario file ``path`` describes."""
    source, base = str(path), path.parent
    kind = convert({"kind": table.get("kind")}, _Kinded, source, prefix).kind
    fields = {k: v for k, v in table.items() if k != "kind"}
    storm: Storm
    if kind == StormKind.REPLAY:
        file = convert(fields.get("hyetograph"), str, source, f"{prefix}hyetograph")
        try:
            fields["hyetograph"] = load_hyetograph(base / file)  # an absolute file stays itself
        except ScenarioError as exc:  # say which scenario needs the file
            raise ScenarioError(str(exc), path=source, field=f"{prefix}hyetograph") from exc
        storm = convert(fields, ReplayStorm, source, prefix)
    elif kind == StormKind.DESIGN:
        storm = convert(fields, DesignStorm, source, prefix)
        within(storm, ("start_h",), duration_h, source, prefix)
    else:
        storm = convert(fields, CellStorm, source, prefix)
        within(storm, ("start_h", "duration_h"), duration_h, source, prefix)
    return storm
