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
    """Load a shipped preset (``"rio"`` or ``"sirens"``) or a preset file given by its path.

    A path (ending in ``.toml``, or naming an existing file) is an engineer's own preset — a
    tuned copy of a shipped one, checked with ``encosta backtest --preset PATH`` and run live
    with ``ENCOSTA_ALERTS_PRESET=PATH`` — read and validated by :func:`load_config`.
    """
    if name in PRESETS:
        text = resources.files("models.config").joinpath(f"{name}.toml").read_text(encoding="utf-8")
        return ModelConfig.from_mapping(tomllib.loads(text), f"models/config/{name}.toml")
    if Path(name).is_file():
        return load_config(name)
    if name.endswith(".toml"):
        raise ConfigError("preset", "rio, sirens or an existing preset file", f"no file {name!r}")
    raise ConfigError(
        "preset", " or ".join(PRESETS) + ", or a preset file (.toml)", f"unknown preset {name!r}"
    )
