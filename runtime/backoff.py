"""How long to wait before trying again: the one backoff policy of every retry loop.

Every retry in Encosta waits ``Backoff.delay_s(failures)``: ``base_s`` grown by ``factor`` per
consecutive failure, capped at ``cap_s``, then jittered so that many clients failing together
(every gateway when the broker restarts, every message to one dead webhook) do not retry
together (Grafana #102282). The cap applies before the jitter, so the spread survives the cap.

Jitter kinds:

- ``FULL``: ``uniform(0, ceiling)``, "full jitter" as aiomqtt's reconnect example and the AWS
  architecture blog's measurements recommend; the best spread, for reconnect loops.
- ``HALF``: ``uniform(ceiling / 2, ceiling)``, at least half the ceiling: a webhook retry is
  never sent again almost at once to a receiver that just failed.

The policies in use (the figures are tuning, chosen where each loop lives):

| loop | base | factor | cap | jitter |
| --- | --- | --- | --- | --- |
| ingest and simulator broker reconnects | 1 s | 1.5 | 30 s | full |
| ingest database retries | 0.1 s | 2 | 10 s | full |
| webhook redelivery | ``ENCOSTA_ALERTS_BACKOFF_BASE_S`` | 2 | ``…_MAX_S`` | half, >= Retry-After |
| alerts LISTEN reconnect, claims heartbeat | 0.2 s, the beat | 2 | 10 s | half |
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

# Its own generator: a simulation seeding the global one stays deterministic.
_random = random.SystemRandom()


class Jitter(StrEnum):
    """Where in ``[0, ceiling]`` a wait is drawn from."""

    FULL = "full"
    HALF = "half"


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with jitter; ``delay_s(failures)`` draws one wait."""

    base_s: float
    cap_s: float
    factor: float = 2.0
    jitter: Jitter = Jitter.FULL

    def __post_init__(self) -> None:
        if not self.base_s > 0 or not self.cap_s > 0:
            raise ValueError(f"backoff base and cap must be > 0 s, not {self.base_s}, {self.cap_s}")
        if not self.factor >= 1:
            raise ValueError(f"backoff factor must be >= 1, not {self.factor}")

    def ceiling_s(self, failures: int) -> float:
        """The longest wait after ``failures`` consecutive failures (the first waits ~base)."""
        try:
            grown = self.base_s * self.factor ** max(failures - 1, 0)
        except OverflowError:  # long outages: the cap was reached long ago
            return self.cap_s
        return min(self.cap_s, grown)

    def delay_s(self, failures: int, *, at_least_s: float | None = None) -> float:
        """A jittered wait after ``failures`` consecutive failures, never below ``at_least_s``.

        ``at_least_s`` is what the other side asked for (an HTTP ``Retry-After``), honoured up
        to the cap so that a hostile or broken header cannot park a retry for ever.
        """
        ceiling = self.ceiling_s(failures)
        low = 0.0 if self.jitter is Jitter.FULL else ceiling / 2
        wait = _random.uniform(low, ceiling)
        if at_least_s is not None:
            wait = max(wait, min(at_least_s, self.cap_s))
        return wait
