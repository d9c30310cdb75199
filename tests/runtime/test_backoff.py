"""The one backoff policy: growth, cap, jitter kinds, the floor asked for by the other side."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime.backoff import Backoff, Jitter

RECONNECT = Backoff(base_s=1.0, factor=1.5, cap_s=30.0)
WEBHOOK = Backoff(base_s=2.0, cap_s=600.0, jitter=Jitter.HALF)


def test_ceiling_grows_from_the_base_to_the_cap() -> None:
    """The first failure waits up to the base; each next one ``factor`` times more, capped."""
    assert [RECONNECT.ceiling_s(n) for n in (1, 2, 3)] == [1.0, 1.5, 2.25]
    assert [WEBHOOK.ceiling_s(n) for n in (1, 2, 5)] == [2.0, 4.0, 32.0]
    assert RECONNECT.ceiling_s(9) == 1.5**8
    assert RECONNECT.ceiling_s(10) == 30.0
    assert WEBHOOK.ceiling_s(0) == 2.0  # no failure yet counts as the first


def test_a_long_outage_stays_at_the_cap() -> None:
    """Failure counts far past the cap neither overflow nor leave the cap."""
    assert Backoff(base_s=0.1, cap_s=10.0).ceiling_s(100_000) == 10.0
    assert 0.0 <= Backoff(base_s=0.1, cap_s=10.0).delay_s(100_000) <= 10.0


@given(failures=st.integers(0, 200))
def test_full_jitter_spreads_over_zero_to_the_ceiling(failures: int) -> None:
    """Full jitter draws in ``[0, ceiling]``: the cap bounds the draw, not the other way round."""
    assert 0.0 <= RECONNECT.delay_s(failures) <= RECONNECT.ceiling_s(failures) <= 30.0


@given(failures=st.integers(0, 200))
def test_half_jitter_waits_at_least_half_the_ceiling(failures: int) -> None:
    """Half jitter draws in ``[ceiling / 2, ceiling]``."""
    ceiling = WEBHOOK.ceiling_s(failures)
    assert ceiling / 2 <= WEBHOOK.delay_s(failures) <= ceiling


def test_full_jitter_does_not_pile_up_at_the_cap() -> None:
    """Past the cap, waits still spread: a broker restart is not followed by a herd at 30 s."""
    waits = [RECONNECT.delay_s(50) for _ in range(200)]
    assert sum(w == 30.0 for w in waits) < 5
    assert min(waits) < 15.0 < max(waits)


def test_retry_after_is_a_floor_up_to_the_cap() -> None:
    """What the other side asks for is honoured, but never beyond the cap."""
    assert WEBHOOK.delay_s(1, at_least_s=120.0) == 120.0
    assert WEBHOOK.delay_s(1, at_least_s=10**9) == 600.0
    assert WEBHOOK.delay_s(1, at_least_s=0.0) >= 1.0


@pytest.mark.parametrize(
    ("base_s", "cap_s", "factor"), [(0.0, 1.0, 2.0), (1.0, 0.0, 2.0), (1.0, 1.0, 0.5)]
)
def test_nonsense_policies_are_refused(base_s: float, cap_s: float, factor: float) -> None:
    """A zero base or cap, or a shrinking factor, is a programming error caught at once."""
    with pytest.raises(ValueError, match="backoff"):
        Backoff(base_s=base_s, cap_s=cap_s, factor=factor)
