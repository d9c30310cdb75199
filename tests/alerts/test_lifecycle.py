"""Alert lifecycle: immediate escalation, held de-escalation, no flapping, unknown holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.evaluator import unchanged
from alerts.lifecycle import AlertState, Step, Transition, advance
from alerts.store import Proposal

T0 = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)
HOLD = timedelta(minutes=60)


def run(
    levels: list[int], *, every: timedelta = timedelta(minutes=5), unknown: bool = False
) -> list[Step]:
    """Feed ``levels`` at a fixed cadence from an empty state; return every step."""
    state = AlertState()
    steps = []
    for i, level in enumerate(levels):
        step = advance(state, level, T0 + i * every, HOLD, unknown=unknown)
        steps.append(step)
        state = step.state
    return steps


def transitions(steps: list[Step]) -> list[tuple[Transition, int, int]]:
    """The recorded transitions of ``steps`` as (kind, from, to)."""
    return [(s.transition, s.from_level, s.to_level) for s in steps if s.transition]


def test_raise_and_escalate_at_once() -> None:
    """0 -> 1 raises and 1 -> 3 escalates in the same evaluation that sees them."""
    assert transitions(run([0, 1, 3])) == [(Transition.RAISED, 0, 1), (Transition.ESCALATED, 1, 3)]


def test_deescalate_and_clear_only_after_hold() -> None:
    """A lower level must persist for the hold time before the alert steps down, then clears."""
    steps = run([2] + [1] * 13 + [0] * 13)
    assert transitions(steps) == [
        (Transition.RAISED, 0, 2),
        (Transition.DEESCALATED, 2, 1),
        (Transition.CLEARED, 1, 0),
    ]
    index = next(i for i, s in enumerate(steps) if s.transition is Transition.DEESCALATED)
    assert index == 13  # first lower reading at step 1, hold of 12 steps of 5 minutes
    assert steps[-1].state == AlertState()


def test_oscillating_input_does_not_flap() -> None:
    """Input alternating 2/0 every 5 minutes raises once and never steps down."""
    steps = run([2, 0] * 50)
    assert transitions(steps) == [(Transition.RAISED, 0, 2)]
    assert all(s.state.level == 2 for s in steps)


def test_oscillation_below_steps_down_to_highest_seen() -> None:
    """While below, the level steps down to the highest lower level seen during the hold."""
    steps = run([3] + [1, 0] * 10)
    assert transitions(steps) == [(Transition.RAISED, 0, 3), (Transition.DEESCALATED, 3, 1)]


def test_unknown_never_deescalates() -> None:
    """A proposal flagged unknown (missing data) keeps the held level indefinitely."""
    state = advance(AlertState(), 2, T0, HOLD).state
    for i in range(1, 100):
        step = advance(state, 0, T0 + i * timedelta(minutes=5), HOLD, unknown=True)
        assert step.transition is None
        state = step.state
    assert state.level == 2
    assert state.below_since is None


def test_pending_deescalation_state_survives_restart() -> None:
    """The stored state (below_since, below_max) continues the hold where it stopped."""
    first = advance(AlertState(), 2, T0, HOLD).state
    pending = advance(first, 1, T0 + timedelta(minutes=1), HOLD).state
    assert pending == AlertState(2, T0 + timedelta(minutes=1), 1)
    restored = AlertState(pending.level, pending.below_since, pending.below_max)
    step = advance(restored, 1, T0 + timedelta(minutes=61), HOLD)
    assert (step.transition, step.to_level) == (Transition.DEESCALATED, 1)


def test_unchanged_state_needs_no_write() -> None:
    """Steady input produces a step that is not ``changed``."""
    state = advance(AlertState(), 1, T0, HOLD).state
    assert not advance(state, 1, T0 + HOLD, HOLD).changed
    assert not advance(AlertState(), 0, T0, HOLD).changed


def test_out_of_range_level_is_refused() -> None:
    """Levels outside 0..3 are a caller bug and raise."""
    with pytest.raises(ValueError, match=r"0\.\.3"):
        advance(AlertState(), 4, T0, HOLD)


@pytest.mark.parametrize("unknown", [False, True])
def test_an_alert_the_evaluator_leaves_unlocked_would_not_change(*, unknown: bool) -> None:
    """Every (state, proposal) ``unchanged`` skips is one ``advance`` leaves as it is."""
    states = [None, AlertState(), *(AlertState(level) for level in range(1, 4))]
    states += [AlertState(level, T0 - HOLD / 2, below) for level in (2, 3) for below in (0, 1)]
    skipped = 0
    for known in states:
        for level in range(4):
            proposal = Proposal("z", "Z", "risk", level, unknown, {})
            if not unchanged(known, proposal):
                continue
            skipped += 1
            step = advance(known or AlertState(), level, T0, HOLD, unknown=unknown)
            assert step.transition is None
            assert not step.changed
    assert skipped == 2 + 3  # level 0 with nothing open (twice), each open level held as it is
