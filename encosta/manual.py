"""Help text that reads like a manual: plain text from the documented sources.

Each service's settings are documented once, as the Markdown table ``| variable | default |
meaning |`` in its configuration module's docstring (``ingest.config``, ``alerts.config``,
``alerts.api.config``); :func:`settings_epilog` turns that table into the plain-text list that
``encosta ingest|alerts|api --help`` prints, so help and docs cannot drift apart (a test checks
that every variable ``from_env`` reads is in the table). :func:`plain` removes the reST markup
of docstrings (double backquotes, ``:class:`` roles) for text a person reads.
"""

from __future__ import annotations

import re
import textwrap

from models import Level

_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``")
_ROW = re.compile(r"^\|\s*(.+?)\s*\|\s*(.+?)\s*\|\s*(.+?)\s*\|\s*$")


def plain(text: str) -> str:
    """``text`` without reST markup: ````x```` and ``:class:`x``` become ``x``."""
    return _LITERAL.sub(r"\1", _ROLE.sub(r"\1", text))


def settings_rows(doc: str) -> list[tuple[str, str, str]]:
    """(variable, default, meaning) of each row of the settings table in ``doc``."""
    rows = []
    for line in doc.splitlines():
        match = _ROW.match(line.strip())
        if match is None:
            continue
        variable, default, meaning = (plain(g) for g in match.groups())
        if variable == "variable" or set(variable) <= {"-", " "}:
            continue  # the header and the rule under it
        rows.append((variable, default, meaning))
    return rows


def settings_epilog(*docs: str, width: int = 78) -> str:
    """The settings tables of ``docs`` as plain text for an ``--help`` epilog."""
    rows: dict[str, tuple[str, str]] = {}
    for doc in docs:
        for variable, default, meaning in settings_rows(doc):
            rows.setdefault(variable, (default, meaning))
    lines = ["settings (environment variables; unset or empty: the default):"]
    for variable, (default, meaning) in rows.items():
        lines.append(f"  {variable}")
        body = f"default {default}: {meaning}"
        lines += textwrap.wrap(body, width, initial_indent="      ", subsequent_indent="      ")
    return "\n".join(lines)


def level_choices() -> str:
    """The alert levels by number and name: ``0 normal, 1 attention, 2 alert, 3 crisis``."""
    return ", ".join(f"{level.value} {level.name.lower()}" for level in Level)


def level_name(level: int) -> str:
    """The name of alert level ``level`` (``2`` -> ``alert``)."""
    return Level(level).name.lower()


def parse_level(text: str) -> int:
    """A level given by number or name (``2`` or ``alert``); ValueError otherwise."""
    text = text.strip().lower()
    for level in Level:
        if text in {str(level.value), level.name.lower()}:
            return int(level.value)
    raise ValueError(f"{text!r} is not a level: {level_choices()}")
