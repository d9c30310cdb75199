"""Shared builders for the risk-model tests (plain functions, no fixtures)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from models import ModelConfig, ModelInputs, StationParams, load_preset

RIO = load_preset("rio")


def build_inputs(
    rain_mm: npt.NDArray[Any],
    vwc_m3m3: npt.NDArray[Any] | None = None,
    *,
    step_minutes: int = 15,
    zone: npt.ArrayLike | None = None,
    config: ModelConfig = RIO,
    spacing_m: float = 500.0,
) -> ModelInputs:
    """Inputs with default soil parameters; one zone per station unless ``zone`` is given."""
    n = rain_mm.shape[0]
    vwc = np.full(rain_mm.shape, np.nan) if vwc_m3m3 is None else vwc_m3m3
    zones = np.arange(n) if zone is None else np.asarray(zone)
    return ModelInputs.build(
        rain_mm,
        vwc,
        step_minutes,
        zones,
        np.arange(n) * spacing_m,
        np.zeros(n),
        StationParams.defaults(n, config),
    )
