"""Hysteresis helper: immediate escalation, de-escalation only after the hold, no flapping."""

from __future__ import annotations

from models import Hysteresis


def test_escalates_immediately() -> None:
    """A higher proposal is held at once."""
    state = Hysteresis(hold_s=3600).update(3, now_s=0.0)
    assert state.level == 3


def test_de_escalates_after_hold() -> None:
    """A lower level takes effect only once it has persisted for the hold time."""
    state = Hysteresis(hold_s=600).update(2, 0.0)
    state = state.update(0, 100.0)
    assert state.update(0, 699.0).level == 2
    assert state.update(0, 700.0).level == 0


def test_no_flapping_for_oscillating_input() -> None:
    """Input alternating 2/1 every minute keeps level 2 (each 2 resets the hold)."""
    state = Hysteresis(hold_s=600)
    for minute in range(120):
        state = state.update(2 if minute % 2 == 0 else 1, minute * 60.0)
        assert state.level == 2


def test_steps_down_to_highest_level_seen_during_hold() -> None:
    """After the hold the level drops to the highest level seen while below, not lower."""
    state = Hysteresis(hold_s=600).update(3, 0.0)
    state = state.update(2, 60.0).update(0, 120.0).update(0, 660.0)
    assert state.level == 2
    assert state.update(0, 1260.0).level == 0


def test_unknown_input_never_de_escalates() -> None:
    """Missing data (unknown) holds the level however long it lasts."""
    state = Hysteresis(hold_s=60).update(3, 0.0)
    for second in range(0, 10_000, 30):
        state = state.update(0, float(second), unknown=True)
    assert state.level == 3
