"""Loading model configuration from checked-in TOML presets (stdlib :mod:`tomllib`)."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from models.config.schema import ModelConfig
from models.errors import ConfigError

PRESETS = ("rio", "sirens")
"""Presets shipped in ``models/config/``: Alerta Rio levels and A2C2 community sirens."""


def load_config(path: str | Path) -> ModelConfig:
    """Read, parse and validate a network configuration file."""
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("<file>", "valid TOML", str(exc), source) from exc
    except OSError as exc:
        raise ConfigError("<file>", "a readable file", str(exc), source) from exc
    return ModelConfig.from_mapping(data, source)


def load_preset(name: str = "rio") -> ModelConfig:
    """Load one of the shipped presets (``"rio"`` or ``"sirens"``)."""
    if name not in PRESETS:
        raise ConfigError("preset", " or ".join(PRESETS), f"unknown preset {name!r}")
    text = resources.files("models.config").joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return ModelConfig.from_mapping(tomllib.loads(text), f"models/config/{name}.toml")
