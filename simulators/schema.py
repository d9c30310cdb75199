"""Declarative reading of TOML tables with msgspec, with errors that name the file and field.

Each table's schema is the dataclass (or msgspec Struct) it becomes: types and ranges as
``Annotated[..., msgspec.Meta(...)]``, cross-field rules in ``__post_init__``. :func:`convert`
refuses keys the schema does not declare, so a typo such as ``ks_mm_hr`` is an error instead
of a silently ignored setting, and turns msgspec's error into a :class:`ScenarioError` naming
the field (``soil.ks_mm_h``) and its allowed range.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from simulators.errors import ScenarioError

T = TypeVar("T")
_PATH = re.compile(r" - at `\$(.*)`\Z")
_MISSING = re.compile(r"missing required field `(\w+)`")
_UNKNOWN = re.compile(r"unknown field `(\w+)`")
_STEP = re.compile(r"\.(\w+)|\[(\d+)\]")


class FieldRuleError(ValueError):
    """Raised by a schema's ``__post_init__``: a rule across fields, naming the field at fault."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def convert(value: object, kind: type[T], source: str, prefix: str = "") -> T:
    """``value`` (a parsed TOML table) as ``kind``; ``prefix`` is the table's dotted name.

    msgspec ignores unknown keys of a dataclass, so they are refused here, at the table's own
    level: nested tables are converted one by one, or are Structs with ``forbid_unknown_fields``.
    """
    info = msgspec.inspect.type_info(kind)
    if isinstance(info, msgspec.inspect.DataclassType) and isinstance(value, Mapping):
        known = {f.name for f in info.fields}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ScenarioError(
                f"unknown field (known here: {', '.join(sorted(known))})",
                path=source,
                field=prefix + unknown[0],
            )
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        raise _error(exc, info, source, prefix) from None


def within(
    table: object, keys: tuple[str, ...], duration_h: float, source: str, prefix: str
) -> None:
    """Refuse hours in ``table`` that start or last beyond the scenario's ``duration_h``."""
    for key in keys:
        value = getattr(table, key)
        if value > duration_h:
            message = f"= {value:g} is outside the allowed range [0, {duration_h:g}]"
            raise ScenarioError(message, path=source, field=prefix + key)


def _error(
    exc: msgspec.ValidationError, info: msgspec.inspect.Type, source: str, prefix: str
) -> ScenarioError:
    text = str(exc)
    path, missing = _PATH.search(text), _MISSING.search(text)
    named = missing or _UNKNOWN.search(text)
    field = (path.group(1) if path else "") + (f".{named.group(1)}" if named else "")
    for name, index in _STEP.findall(path.group(1) if path else ""):
        info = _child(info, name, index)
    info = _child(info, "", "")
    if isinstance(exc.__context__, FieldRuleError):
        field += f".{exc.__context__.key}"
    message = "is required" if missing else text.partition(" - at ")[0]
    if isinstance(info, msgspec.inspect.FloatType | msgspec.inspect.IntType) and not missing:
        low = info.ge if info.ge is not None else info.gt
        message += f"; allowed range [{low:g}, {info.le:g}]" if info.le is not None else ""
    if isinstance(info, msgspec.inspect.LiteralType):
        message += f"; one of {', '.join(str(v) for v in info.values)}"
    if isinstance(info, msgspec.inspect.EnumType):
        message += f"; one of {', '.join(str(m.value) for m in info.cls)}"
    dotted = (prefix + field.lstrip(".")).rstrip(".")
    return ScenarioError(message, path=source, field=dotted or None)


def _child(info: Any, name: str, index: str) -> Any:  # noqa: ANN401 - msgspec.inspect nodes
    """The declared type one step down msgspec's error path (a field name, or an index)."""
    if isinstance(info, msgspec.inspect.UnionType):
        info = next(t for t in info.types if not isinstance(t, msgspec.inspect.NoneType))
    if name and hasattr(info, "fields"):
        return next((f.type for f in info.fields if f.encode_name == name), info)
    if index and hasattr(info, "item_types"):
        return info.item_types[int(index)]
    if index and hasattr(info, "item_type"):
        return info.item_type
    return info
