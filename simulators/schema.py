"""Typed, range-checked reading of TOML tables, with errors that name the field.

A :class:`Section` wraps one TOML table. Every getter checks type and range and records the
key as used; :meth:`Section.finish` then rejects keys nobody read, so a typo such as
``ks_mm_hr`` is an error instead of a silently ignored setting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

from simulators.errors import ScenarioError

_REQUIRED: Final = object()


class Section:
    """One TOML table of a scenario file, read field by field."""

    __slots__ = ("_prefix", "_source", "_table", "_used")

    def __init__(self, table: Mapping[str, object], prefix: str, source: str) -> None:
        self._table = table
        self._prefix = prefix
        self._source = source
        self._used: set[str] = set()

    def _name(self, key: str) -> str:
        return f"{self._prefix}.{key}" if self._prefix else key

    def error(self, key: str, message: str) -> ScenarioError:
        """A :class:`ScenarioError` about ``key`` of this table."""
        return ScenarioError(message, path=self._source, field=self._name(key))

    def _get(self, key: str, default: object) -> object:
        self._used.add(key)
        if key in self._table:
            return self._table[key]
        if default is _REQUIRED:
            raise self.error(key, "is required")
        return default

    def has(self, key: str) -> bool:
        """Whether the table sets ``key``."""
        return key in self._table

    def number(
        self, key: str, low: float, high: float, default: float | object = _REQUIRED
    ) -> float:
        """A number in ``[low, high]``."""
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"must be a number in [{low:g}, {high:g}], not {value!r}")
        if not low <= value <= high:
            raise self.error(key, f"= {value:g} is outside the allowed range [{low:g}, {high:g}]")
        return float(value)

    def optional_number(self, key: str, low: float, high: float) -> float | None:
        """A number in ``[low, high]``, or None when the key is absent."""
        if self.has(key):
            return self.number(key, low, high)
        self._used.add(key)
        return None

    def text(
        self, key: str, choices: Sequence[str] | None = None, default: str | object = _REQUIRED
    ) -> str:
        """A string, one of ``choices`` when given."""
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, not {value!r}")
        if choices is not None and value not in choices:
            raise self.error(key, f"= {value!r} is not one of {', '.join(choices)}")
        return value

    def moment(self, key: str) -> datetime:
        """A TOML offset date-time (``2010-04-05T12:00:00-03:00``)."""
        value = self._get(key, _REQUIRED)
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise self.error(
                key, "must be a date-time with a UTC offset, e.g. 2010-04-05T12:00:00-03:00"
            )
        return value

    def section(self, key: str) -> Section:
        """The sub-table ``key`` (empty when absent)."""
        value = self._get(key, {})
        if not isinstance(value, Mapping):
            raise self.error(key, "must be a table")
        return Section(value, self._name(key), self._source)

    def sections(self, key: str) -> list[Section]:
        """The array of tables ``key`` (empty when absent)."""
        value = self._get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.error(key, "must be an array of tables ([[...]])")
        return [Section(v, f"{self._name(key)}[{i}]", self._source) for i, v in enumerate(value)]

    def raw(self, key: str, default: object = _REQUIRED) -> object:
        """The value of ``key`` unchecked, for structures a caller validates itself."""
        return self._get(key, default)

    def finish(self) -> None:
        """Reject keys that no getter read (typos, fields of another version)."""
        unknown = sorted(set(self._table) - self._used)
        if unknown:
            raise self.error(
                unknown[0], f"unknown field (known here: {', '.join(sorted(self._used))})"
            )
