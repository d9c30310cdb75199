"""Storm definitions of a scenario: documented replays, design storms and moving rain cells.

A scenario lists ``[[storms]]``; their rain adds up. Each kind is a frozen dataclass built
from its TOML table by :func:`parse_storm`, which names the field and the allowed range of
anything it rejects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from simulators.hyetograph import Hyetograph, load_hyetograph

if TYPE_CHECKING:
    from simulators.schema import Section


@dataclass(frozen=True, slots=True)
class ReplayStorm:
    """A documented storm replayed from gauge mass curves, interpolated to the stations.

    ``transpose_to`` (lat, lon) moves the gauges' centroid there (storm transposition), and
    ``footprint_km`` lets rain fade with distance from the nearest gauge beyond the cluster.
    """

    hyetograph: Hyetograph
    scale: float = 1.0
    jitter: float = 0.0
    transpose_to: tuple[float, float] | None = None
    footprint_km: float | None = None


@dataclass(frozen=True, slots=True)
class DesignStorm:
    """A synthetic storm of a return period and duration from an IDF curve.

    Intensity ``i = k * T**a / (t + b)**c`` (mm/h; T years, t minutes), the Sherman form used
    for Brazilian IDF equations; blocks arranged by the alternating-block method
    (Chow, Maidment and Mays 1988, section 14.4), peak at ``peak_at`` of the duration.
    """

    return_period_y: float
    duration_h: float
    start_h: float
    idf_k: float = 1239.0
    idf_a: float = 0.15
    idf_b_min: float = 20.0
    idf_c: float = 0.74
    peak_at: float = 0.4
    jitter: float = 0.2


@dataclass(frozen=True, slots=True)
class CellStorm:
    """Convective cells born at random, moving with the steering wind, Gaussian in space."""

    start_h: float
    duration_h: float
    cells_per_h: float
    lifetime_h: float
    radius_km: float
    peak_mm_h: float
    speed_kmh: float
    heading_deg: float  # direction the cells move towards, clockwise from north
    jitter: float = 0.3


Storm = ReplayStorm | DesignStorm | CellStorm
KINDS = ("replay", "design", "cells")


def _transpose(section: Section) -> tuple[float, float] | None:
    raw = section.raw("transpose_to", None)
    if raw is None:
        return None
    if not (
        isinstance(raw, list)
        and len(raw) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw)
    ):
        raise section.error("transpose_to", "must be [lat, lon] in degrees")
    lat, lon = float(raw[0]), float(raw[1])
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise section.error("transpose_to", f"[{lat}, {lon}] is not a position on Earth")
    return lat, lon


def parse_storm(section: Section, base: Path, duration_h: float) -> Storm:
    """Build the storm a ``[[storms]]`` table describes; ``base`` resolves relative paths."""
    kind = section.text("kind", KINDS)
    storm: Storm
    if kind == "replay":
        path = Path(section.text("hyetograph"))
        storm = ReplayStorm(
            hyetograph=load_hyetograph(path if path.is_absolute() else base / path),
            scale=section.number("scale", 0.0, 5.0, 1.0),
            jitter=section.number("jitter", 0.0, 1.0, 0.0),
            transpose_to=_transpose(section),
            footprint_km=section.optional_number("footprint_km", 0.5, 500.0),
        )
    elif kind == "design":
        storm = DesignStorm(
            return_period_y=section.number("return_period_y", 1.0, 10000.0),
            duration_h=section.number("duration_h", 0.25, 96.0),
            start_h=section.number("start_h", 0.0, duration_h),
            idf_k=section.number("idf_k", 1.0, 1.0e5, 1239.0),
            idf_a=section.number("idf_a", 0.0, 1.0, 0.15),
            idf_b_min=section.number("idf_b_min", 0.0, 120.0, 20.0),
            idf_c=section.number("idf_c", 0.1, 1.5, 0.74),
            peak_at=section.number("peak_at", 0.0, 1.0, 0.4),
            jitter=section.number("jitter", 0.0, 1.0, 0.2),
        )
    else:
        storm = CellStorm(
            start_h=section.number("start_h", 0.0, duration_h),
            duration_h=section.number("duration_h", 0.1, duration_h),
            cells_per_h=section.number("cells_per_h", 0.0, 200.0),
            lifetime_h=section.number("lifetime_h", 0.1, 24.0),
            radius_km=section.number("radius_km", 0.2, 100.0),
            peak_mm_h=section.number("peak_mm_h", 0.0, 250.0),
            speed_kmh=section.number("speed_kmh", 0.0, 150.0),
            heading_deg=section.number("heading_deg", 0.0, 360.0),
            jitter=section.number("jitter", 0.0, 1.0, 0.3),
        )
    section.finish()
    return storm
