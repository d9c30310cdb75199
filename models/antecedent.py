"""Antecedent precipitation index (API).

``API_t = k * API_{t-1} + P_t`` (Crozier 1986, *Landslides: causes, consequences and
environment*; Glade, Crozier & Smith 2000, Pure and Applied Geophysics 157). ``k`` is quoted
per day (about 0.85-0.93); on a grid of ``s`` minutes the same decay per day is
``k_step = k_daily ** (s / 1440)``. Unrolled over a record of ``T`` steps starting from 0:
``API_T-1 = sum_t k_step ** (T-1-t) * P_t``, a dot product with fixed weights.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from models.inputs import FloatArray


def api_weights(n_steps: int, k_step: float, dtype: npt.DTypeLike = np.float64) -> npt.NDArray[Any]:
    """Weights ``k_step ** age`` (oldest first) so that ``rain @ weights`` is the API now."""
    ages = np.arange(n_steps - 1, -1, -1, dtype=np.float64)
    return np.power(k_step, ages).astype(dtype)


def prior_api(
    daily_mm: npt.NDArray[Any], k_daily: float, k_step: float, n_steps: int
) -> FloatArray:
    """The API contribution at the newest step of rain *before* the gridded record.

    ``daily_mm`` [stations, days] holds daily totals of the days before the first grid step,
    newest last (e.g. 30 days from an hourly rollup: the antecedent record the 96 h grid
    cannot carry). A day's rain enters at its end, decays by ``k_daily`` per whole day to the
    start of the record, then by ``k_step`` per step across it. Missing days (NaN) add
    nothing: the index stays a lower bound.
    """
    days = daily_mm.shape[1]
    ages = np.arange(days - 1, -1, -1, dtype=np.float64)
    weights = np.power(k_daily, ages) * k_step**n_steps
    rain = np.where(np.isfinite(daily_mm) & (daily_mm >= 0), daily_mm, 0.0)
    result: FloatArray = rain.astype(np.float64) @ weights
    return result
