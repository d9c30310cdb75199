"""Model configuration: schema, validation and the shipped presets (rio.toml, sirens.toml)."""

from models.config.loader import PRESETS, load_config, load_preset
from models.config.schema import (
    Antecedent,
    Event,
    Hysteresis,
    IntensityDuration,
    Interpolation,
    ModelConfig,
    Quality,
    RainLevels,
    Slope,
    Zone,
)

__all__ = [
    "PRESETS",
    "Antecedent",
    "Event",
    "Hysteresis",
    "IntensityDuration",
    "Interpolation",
    "ModelConfig",
    "Quality",
    "RainLevels",
    "Slope",
    "Zone",
    "load_config",
    "load_preset",
]
