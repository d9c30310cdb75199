"""An event's duration starts at its first recorded rain, not at missing history before it."""

from __future__ import annotations

import numpy as np

from models import ModelState, evaluate
from tests.models.helpers_risk import RIO, build_inputs

STEPS = 96 * 4


def _replay_start() -> np.ndarray:
    """A record that begins 6 h before now: 90 h missing, 3 h dry, then 3 h of rain."""
    rain = np.full((1, STEPS), np.nan)
    rain[0, -24:-12] = 0.0
    rain[0, -12:] = np.tile([4.0, 6.0], 6)  # 60 mm in 3 h
    return rain


def test_missing_history_is_not_rain_duration() -> None:
    """D is 3 h (the rain), not 93 h: missing steps before the first rain do not count."""
    result = evaluate(build_inputs(_replay_start()), RIO)
    assert result.event_duration_h[0] == 3.0
    assert np.isclose(result.event_intensity_mm_h[0], 20.0)


def test_the_incremental_path_measures_the_same_duration() -> None:
    """Pushed step by step from the missing history, the event lasts the same 3 h."""
    rain = _replay_start()
    vwc = np.full(rain.shape, np.nan)
    state = ModelState(build_inputs(rain[:, :200], vwc[:, :200]), RIO)
    for t in range(200, STEPS):
        state.push(rain[:, t], vwc[:, t])
    assert state.result().event_duration_h[0] == 3.0


def test_a_gap_inside_the_event_still_counts_as_duration() -> None:
    """A lost bucket between two wet steps is part of the event (a gap is never dry)."""
    rain = np.zeros((1, STEPS))
    rain[0, -8:] = 2.0
    rain[0, -5] = np.nan
    result = evaluate(build_inputs(rain), RIO)
    assert result.event_duration_h[0] == 2.0
