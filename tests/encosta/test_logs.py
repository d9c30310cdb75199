"""The log formatters: extra fields become keys; what is not context stays out."""

from __future__ import annotations

import json
import logging

from encosta.logs import JsonFormatter, PlainFormatter


def record(**extra: object) -> logging.LogRecord:
    """A record as ``log.info("msg", extra=extra)`` makes it."""
    made = logging.makeLogRecord({"name": "encosta.test", "levelname": "INFO", "msg": "msg"})
    made.__dict__.update(extra)
    return made


def test_extra_fields_are_keys_and_uvicorns_colour_copy_is_not() -> None:
    """``extra`` context lands in the JSON object; uvicorn's ANSI ``color_message`` does not."""
    coloured = record(station="st-1", color_message="\x1b[32mmsg\x1b[0m")
    entry = json.loads(JsonFormatter().format(coloured))
    assert entry["station"] == "st-1"
    assert entry["msg"] == "msg"
    assert "color_message" not in entry
    plain = PlainFormatter().format(coloured)
    assert "station=st-1" in plain
    assert "\x1b[" not in plain
