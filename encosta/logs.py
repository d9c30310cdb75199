"""Logging set up once, in the entry point: JSON lines in production, readable in a terminal.

No credential reaches a log line. Our own log calls never pass tokens, secrets, DSNs or webhook
URLs (a webhook URL is often a credential itself: ``https://hooks.example/T0/B0/XXXX``); the
HTTP client libraries, which log every request's URL at INFO, are held at WARNING; and as a
last line every rendered line is redacted: ``whsec_…`` secrets, ``Bearer …`` tokens and the
password of any ``scheme://user:password@`` URL or DSN become ``***``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

# Not context: the record's own attributes, and uvicorn's copy of its message with ANSI colours.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}
_SECRETS = (
    (re.compile(r"whsec_[A-Za-z0-9+/=_-]+"), "whsec_***"),
    (re.compile(r"(?i)(\bbearer\s+)[^\s\"',]+"), r"\1***"),
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@\"']*:)[^@\s/\"']+@"), r"\1***@"),
)
# They log each request's full URL at INFO; a webhook URL can be a credential.
_CHATTY = ("httpx", "httpcore")


def redact(text: str) -> str:
    """``text`` with webhook secrets, bearer tokens and URL passwords replaced by ``***``."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line with the record's ``extra`` fields as keys."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as JSON."""
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


class PlainFormatter(logging.Formatter):
    """``time level logger: message key=value ...`` for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as one readable line."""
        extra = " ".join(f"{k}={v}" for k, v in record.__dict__.items() if k not in _STANDARD)
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        line = f"{stamp} {record.levelname.lower():7} {record.name}: {record.getMessage()}"
        if record.exc_info:
            extra = f"{extra}\n{self.formatException(record.exc_info)}"
        return redact(f"{line} {extra}".rstrip())


def configure(level: str = "INFO", *, json_logs: bool | None = None) -> None:
    """Configure the root logger; JSON unless stderr is a terminal (override with json_logs)."""
    use_json = not sys.stderr.isatty() if json_logs is None else json_logs
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if use_json else PlainFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
