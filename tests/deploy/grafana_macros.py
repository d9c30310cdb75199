"""Grafana's SQL macros and template variables, expanded as its PostgreSQL datasource does.

Grafana interpolates template variables first (in the browser: ``$station``, ``${station}``
and the built-in ``$__interval``), then the backend expands the macros. The macros are those of
Grafana's PostgreSQL data source ("Macros" in https://grafana.com/docs/grafana/latest/
datasources/postgres/query-editor/), expanded as its backend does (``pkg/tsdb/
grafana-postgresql-datasource/macros.go``) for a datasource with ``timescaledb: true``; the
test checks this module against the cases of Grafana's own ``macros_test.go``:

| macro | expansion |
| --- | --- |
| ``$__time(col)`` | ``col AS "time"`` |
| ``$__timeFilter(col)`` | ``col BETWEEN '<from>' AND '<to>'`` (RFC 3339, UTC) |
| ``$__timeFrom()`` / ``$__timeTo()`` | ``'<from>'`` / ``'<to>'`` |
| ``$__timeGroup(col, 15m)`` | ``time_bucket('900.000s',col)`` |
| ``$__timeGroupAlias(col, 15m)`` | ``time_bucket('900.000s',col) AS "time"`` |
| ``$__unixEpochFilter(col)`` | ``col >= <from epoch s> AND col <= <to epoch s>`` |
| ``$__unixEpochFrom()`` / ``$__unixEpochTo()`` | ``<from epoch s>`` / ``<to epoch s>`` |

A single-valued variable is substituted without quotes (the SQL quotes it, ``'$station'``),
as Grafana does for SQL datasources. Anything left that looks like a macro or a variable is an
error, so a dashboard that uses one this module does not know fails its test instead of
running a query Grafana would send differently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)(?!\w*\()")
_MACRO = re.compile(r"\$__(\w+)\(([^()]*)\)")
_INTERVAL = re.compile(r"^(\d+)(ms|s|m|h|d|w)$")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_COMMENT = re.compile(r"--[^\n]*")


class MacroError(ValueError):
    """A macro or variable this expander does not know, or a malformed argument."""


def interval_seconds(text: str) -> float:
    """Seconds of a Grafana interval such as ``15m`` or ``'1h'`` (quotes allowed)."""
    match = _INTERVAL.match(text.strip().strip("'\""))
    if not match:
        raise MacroError(f"{text!r} is not a Grafana interval (e.g. 15m, 1h)")
    return int(match[1]) * _UNIT_S[match[2]]


@dataclass(frozen=True, slots=True)
class Request:
    """What Grafana sends with a query: the time range, ``$__interval`` and variables."""

    start: datetime
    end: datetime
    interval: str = "15m"
    variables: Mapping[str, str] | None = None

    def _literal(self, moment: datetime) -> str:
        # Go's time.RFC3339Nano: fractional seconds only when there are any, zeros trimmed
        utc = moment.astimezone(UTC)
        fraction = f"{utc.microsecond:06d}".rstrip("0")
        return "'" + utc.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z'"

    def _macro(self, match: re.Match[str]) -> str:
        name = match[1]
        args = [a.strip() for a in match[2].split(",")] if match[2].strip() else []
        if name in {"timeFrom", "timeTo"} and not args:
            return self._literal(self.start if name == "timeFrom" else self.end)
        if name in {"unixEpochFrom", "unixEpochTo"} and not args:
            return str(int((self.start if name == "unixEpochFrom" else self.end).timestamp()))
        if name == "time" and len(args) == 1:
            return f'{args[0]} AS "time"'
        if name == "timeFilter" and len(args) == 1:
            return f"{args[0]} BETWEEN {self._literal(self.start)} AND {self._literal(self.end)}"
        if name == "unixEpochFilter" and len(args) == 1:
            start, end = int(self.start.timestamp()), int(self.end.timestamp())
            return f"{args[0]} >= {start} AND {args[0]} <= {end}"
        if name in {"timeGroup", "timeGroupAlias"} and len(args) in {2, 3}:
            if len(args) == 3:
                raise MacroError("gap filling (the third argument) is not implemented")
            bucket = f"time_bucket('{interval_seconds(args[1]):.3f}s',{args[0]})"
            return bucket + (' AS "time"' if name == "timeGroupAlias" else "")
        raise MacroError(f"$__{name}({match[2]}) is not implemented here")

    def _variable(self, match: re.Match[str]) -> str:
        name = match[1] or match[2]
        if name == "__interval":
            return self.interval
        values = self.variables or {}
        if name not in values:
            raise MacroError(f"${name} has no value in this request")
        return values[name]

    def expand(self, sql: str) -> str:
        """``sql`` as the database receives it from Grafana."""
        # Grafana strips SQL comments before expanding (macros.go stripSQLComments); the
        # dashboards' comments hold no quotes, so a line comment ends at the newline.
        interpolated = _VARIABLE.sub(self._variable, _COMMENT.sub("", sql))
        expanded = _MACRO.sub(self._macro, interpolated)
        if "$__" in expanded:
            raise MacroError(f"unexpanded macro left in: {expanded}")
        return expanded
