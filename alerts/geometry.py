"""Where a zone is: the circle around its stations that a CAP ``<area>`` carries.

CAP 1.2 areas are circles ``"lat,lon radius_km"``; a zone's is centred on the mean of its
stations' coordinates and reaches the farthest one plus a margin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg

EARTH_KM = 6371.0  # mean radius
MARGIN_KM = 0.5  # a slope just beyond the outermost station is still in the zone


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points in degrees (haversine)."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    )
    return 2 * EARTH_KM * math.asin(math.sqrt(h))


def enclosing_circle(points: Sequence[tuple[float, float]]) -> tuple[float, float, float]:
    """(lat, lon, radius km) around ``points``: their mean, to the farthest plus the margin."""
    lat = sum(p[0] for p in points) / len(points)
    lon = sum(p[1] for p in points) / len(points)
    return lat, lon, max(distance_km((lat, lon), p) for p in points) + MARGIN_KM


async def zone_circle(
    connection: asyncpg.Connection, zone_id: str
) -> tuple[float, float, float] | None:
    """The circle around the zone's stations, or None for a zone without any."""
    rows = await connection.fetch("SELECT lat, lon FROM stations WHERE zone_id = $1", zone_id)
    return enclosing_circle([(r["lat"], r["lon"]) for r in rows]) if rows else None
