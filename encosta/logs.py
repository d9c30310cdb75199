"""Logging set up once, in the entry point, with structlog: JSON lines, or readable ones.

JSON lines in production; readable lines at a terminal.

Every record goes through the same structlog processors, whether it comes from structlog or
from the standard library (``logging.getLogger(...).info("…", extra={...})``, uvicorn,
asyncpg): the ``extra`` fields become keys, and so does the context bound with
:func:`structlog.contextvars.bound_contextvars` around the work of one message or zone
(``station`` and ``topic`` in ingest; ``zone`` and ``alert_id`` in alerts and the API).
Library noise is not context: uvicorn's ANSI copy of each message (``color_message``) and
the HTTP client libraries' per-request INFO lines (held at WARNING) are dropped.

No credential reaches a log line. Our own log calls never pass tokens, secrets, DSNs or webhook
URLs (a webhook URL is often a credential itself: ``https://hooks.example/T0/B0/XXXX``); and as
a last line every rendered line is redacted: ``whsec_…`` secrets, ``Bearer …`` tokens and the
password of any ``scheme://user:password@`` URL or DSN become ``***``.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import structlog

if TYPE_CHECKING:
    from structlog.typing import EventDict, Processor, WrappedLogger

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_SECRETS = (
    (re.compile(r"whsec_[A-Za-z0-9+/=_-]+"), "whsec_***"),
    (re.compile(r"(?i)(\bbearer\s+)[^\s\"',]+"), r"\1***"),
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@\"']*:)[^@\s/\"']+@"), r"\1***@"),
)
# They log each request's full URL at INFO; a webhook URL can be a credential.
_CHATTY = ("httpx", "httpcore")
# Keys that are a library's noise, not context (uvicorn's coloured copy of the message).
_NOISE = frozenset({"color_message"})


def redact(text: str) -> str:
    """``text`` with webhook secrets, bearer tokens and URL passwords replaced by ``***``."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def _drop_noise(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    for key in _NOISE & event.keys():
        del event[key]
    return event


class _RedactingFormatter(structlog.stdlib.ProcessorFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def check_level(level: str) -> str:
    """``level`` in upper case if it is a logging level; ValueError naming the choices."""
    name = level.strip().upper()
    if name not in LEVELS:
        raise ValueError(f"log level {level!r} is not one of {', '.join(LEVELS)}")
    return name


def _shared() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        _drop_noise,
    ]


def configure(
    level: str = "INFO", *, json_logs: bool | None = None, stream: TextIO | None = None
) -> None:
    """Configure the root logger and structlog; JSON unless ``stream`` is a terminal.

    ``stream`` (default stderr) receives every line; ``json_logs`` overrides the choice.
    """
    out = stream or sys.stderr
    use_json = not out.isatty() if json_logs is None else json_logs
    renderer: Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False, default=str)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=False, sort_keys=False, timestamp_key="ts")
    )
    final: list[Processor] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if use_json:
        final += [structlog.processors.format_exc_info, _rename_event]
    final.append(renderer)
    handler = logging.StreamHandler(out)
    handler.setFormatter(_RedactingFormatter(foreign_pre_chain=_shared(), processors=final))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(check_level(level))
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def quiet(path: str | None = None, level: str = "INFO") -> None:
    """Logs for a command whose stdout is the product (``encosta demo``).

    With ``path``, every line goes to that file as JSON; without, only warnings and errors
    reach stderr, so nothing scrolls through a live view or into a piped summary.
    """
    if path is None:
        configure("WARNING")
        return
    stream = Path(path).open("a", encoding="utf-8")  # noqa: SIM115  lives as long as the process
    configure(level, json_logs=True, stream=stream)


def _rename_event(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """The message under ``msg`` as our JSON lines have always had it."""
    if "event" in event:
        event["msg"] = event.pop("event")
        event = {"ts": event.pop("ts", None), "level": event.pop("level", None), **event}
    return event


def get_logger(name: str) -> Any:  # noqa: ANN401  structlog's BoundLogger is untyped by design
    """A structlog logger under ``name`` (the same handlers as the standard library's)."""
    return structlog.get_logger(name)
