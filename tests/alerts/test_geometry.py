"""Zone geometry for CAP areas: haversine distances and the circle around a zone's stations."""

from __future__ import annotations

import math

import pytest

from alerts.geometry import EARTH_KM, MARGIN_KM, distance_km, enclosing_circle


def test_distance_is_the_great_circle() -> None:
    """One degree of latitude is 1/360 of the circumference; a point is 0 km from itself."""
    assert distance_km((-22.98, -43.25), (-21.98, -43.25)) == pytest.approx(
        2 * math.pi * EARTH_KM / 360
    )
    assert distance_km((-22.98, -43.25), (-22.98, -43.25)) == 0.0


def test_circle_is_centred_on_the_stations_and_reaches_the_farthest() -> None:
    """Centre at the mean; radius to the farthest station plus the margin; one station: margin."""
    lat, lon, radius = enclosing_circle([(-22.99, -43.25), (-22.97, -43.25)])
    assert (lat, lon) == pytest.approx((-22.98, -43.25))
    assert radius == pytest.approx(distance_km((lat, lon), (-22.99, -43.25)) + MARGIN_KM)
    assert enclosing_circle([(-22.98, -43.25)]) == (-22.98, -43.25, MARGIN_KM)
