"""Exceptions raised by the risk model.

Hierarchy::

    ModelError                 root: catch this to handle any model failure
    ├── ConfigError            a configuration field is missing or out of range (.field, .allowed)
    └── InputError             input arrays have the wrong shape or values (.field)
"""

from __future__ import annotations


class ModelError(Exception):
    """Root of every error raised by :mod:`models`."""


class ConfigError(ModelError):
    """A configuration value is missing, mistyped or outside its allowed range.

    Attributes:
        field: dotted name of the offending field, e.g. ``"rain_levels.rain_1h_mm"``.
        allowed: human-readable description of the allowed values, e.g. ``"0 < value <= 500"``.
        source: the file the value came from, when known.
    """

    def __init__(self, field: str, allowed: str, message: str, source: str | None = None) -> None:
        where = f" in {source}" if source else ""
        hint = " Fix the value in that file (see docs/model.md)." if source else ""
        super().__init__(f"config field {field!r}{where}: {message}; allowed: {allowed}.{hint}")
        self.field = field
        self.allowed = allowed
        self.source = source


class InputError(ModelError):
    """Model input arrays are inconsistent (shape, dtype or step).

    Attributes:
        field: name of the offending input, e.g. ``"vwc_m3m3"``.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"model input {field!r}: {message}")
        self.field = field
