"""Level hysteresis for the alert engine: escalate at once, de-escalate after a hold time.

Pure: times are passed in (seconds on any monotonic or epoch scale), nothing reads a clock.
While the proposed level stays below the held level, the highest proposed level seen is
remembered; once the hold time has passed since the condition first fell below, the level
steps down to that highest level and a new hold starts if the input is still lower. A
proposal flagged ``unknown`` (missing data) never starts or advances a de-escalation: no
data is never evidence that the danger has passed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Hysteresis:
    """Held level and the pending de-escalation; update with :meth:`update`.

    Attributes:
        hold_s: seconds a lower level must persist before the held level drops.
        level: the level currently held (0-3).
        below_since_s: when the proposed level first fell below ``level`` (None: not below).
        below_max: highest proposed level since ``below_since_s``.
    """

    hold_s: float
    level: int = 0
    below_since_s: float | None = None
    below_max: int = 0

    def __post_init__(self) -> None:
        if self.hold_s < 0:
            raise ValueError(f"hold_s must be >= 0, got {self.hold_s}")

    def update(self, proposed: int, now_s: float, *, unknown: bool = False) -> Hysteresis:
        """Return the state after seeing ``proposed`` at time ``now_s``."""
        if proposed >= self.level:
            return replace(self, level=proposed, below_since_s=None, below_max=0)
        if unknown:
            return replace(self, below_since_s=None, below_max=0)
        if self.below_since_s is None:
            return replace(self, below_since_s=now_s, below_max=proposed)
        below_max = max(self.below_max, proposed)
        if now_s - self.below_since_s < self.hold_s:
            return replace(self, below_max=below_max)
        if proposed < below_max:
            return Hysteresis(self.hold_s, below_max, now_s, proposed)
        return Hysteresis(self.hold_s, below_max)
