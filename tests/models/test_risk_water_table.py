"""Wetness to water table: a probe proves a water table only by reading saturation at its depth.

Issue 9, cause 3: the deepest probe's degree of saturation was read as the saturated fraction
of the whole column, so a wet but unsaturated profile (Se 0.65) read as a 65 % water table and
one saturated probe as a saturated column. Hand-computed values use the preset's defaults
(c' 5 kPa, phi' 33 deg, gamma 18 kN/m3, beta 30 deg, z 2 m, c_s 8 kPa, theta 0.05-0.45).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from models import Criterion, ModelInputs, StationParams, evaluate, water_table_ratio
from models.config import load_config
from models.errors import ConfigError
from tests.models.helpers_risk import RIO

STEPS = 96 * 4
PROBE = replace(RIO, slope=replace(RIO.slope, water_table="probe"))  # the mapping under test
WOBBLE = 0.002 * (np.arange(STEPS) % 2)  # a live probe's noise, above the stuck tolerance


def _evaluate(vwc: float, probe_depth_m: float) -> tuple[float, int]:
    """FS and slope level of one station, dry gauge, probe at ``probe_depth_m``."""
    params = replace(StationParams.defaults(1, RIO), probe_depth_m=np.array([probe_depth_m]))
    inputs = ModelInputs.build(
        np.zeros((1, STEPS)), np.full((1, STEPS), vwc) + WOBBLE, 15, [0], [0.0], [0.0], params
    )
    result = evaluate(inputs, PROBE)
    return float(result.factor_of_safety[0]), int(result.criterion_level[0, Criterion.SLOPE])


def test_a_wet_unsaturated_profile_has_no_pore_pressure() -> None:
    """Se 0.65 at 1.2 m of a 2 m column: suction partly lost, no water table: FS 1.625, level 0."""
    fs, level = _evaluate(0.05 + 0.65 * 0.40 - 0.002, 1.2)
    assert fs == pytest.approx(1.6252, abs=2e-3)
    assert level == 0


def test_a_saturated_probe_proves_the_water_table_up_to_its_depth() -> None:
    """Saturated at 1.2 m of 2 m: h >= 0.8 m, m_w = 0.4, no suction: FS 1.200, attention."""
    fs, level = _evaluate(0.45 - 0.002, 1.2)
    assert fs == pytest.approx(1.2004, abs=1e-3)
    assert level == 1


def test_a_saturated_shallow_probe_proves_a_high_water_table() -> None:
    """Saturated at 0.5 m of 2 m: m_w = 0.75, FS 0.986 (crisis)."""
    fs, level = _evaluate(0.45 - 0.002, 0.5)
    assert fs == pytest.approx(0.9858, abs=1e-3)
    assert level == 3


def test_a_probe_below_the_failure_plane_proves_no_water_table_above_it() -> None:
    """Saturated at 2.2 m under a 2 m plane: no positive pore pressure proven, FS 1.446."""
    fs, level = _evaluate(0.45 - 0.002, 2.2)
    assert fs == pytest.approx(1.4456, abs=1e-3)
    assert level == 0


def test_water_table_ratio_is_a_lower_bound_from_each_reading() -> None:
    """m_w is (z - d) / z when the reading is within the tolerance of theta_s, else 0; NaN stays."""
    ratio = water_table_ratio(
        np.array([0.45, 0.41, 0.39, np.nan]),
        np.full(4, 0.45),
        np.array([1.0, 1.0, 1.0, 1.0]),
        np.full(4, 2.0),
        tolerance_m3m3=0.05,
    )
    assert ratio[:3] == pytest.approx([0.5, 0.5, 0.0])
    assert np.isnan(ratio[3])


def test_the_column_mapping_ignores_the_probe_depth() -> None:
    """slope.water_table = "column", the presets' default: the probe stands for the column.

    A saturated probe at 1.2 m reads as a saturated column, as without a probe depth.
    """
    params = replace(StationParams.defaults(1, RIO), probe_depth_m=np.array([1.2]))
    vwc = np.full((1, STEPS), 0.45 - 0.002) + WOBBLE
    inputs = ModelInputs.build(np.zeros((1, STEPS)), vwc, 15, [0], [0.0], [0.0], params)
    without = replace(params, probe_depth_m=None)
    bare = ModelInputs.build(np.zeros((1, STEPS)), vwc, 15, [0], [0.0], [0.0], without)
    column = float(evaluate(inputs, RIO).factor_of_safety[0])
    assert column == pytest.approx(float(evaluate(bare, RIO).factor_of_safety[0]))
    assert column < float(evaluate(inputs, PROBE).factor_of_safety[0]) - 0.05


def test_an_unknown_water_table_mapping_is_refused(tmp_path: Path) -> None:
    """A preset naming another mapping fails on load, naming the key and the choices."""
    source = Path("models/config/rio.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(source.replace('water_table = "column"', 'water_table = "magic"', 1))
    with pytest.raises(ConfigError, match=r"slope\.water_table.*column or probe"):
        load_config(bad)
