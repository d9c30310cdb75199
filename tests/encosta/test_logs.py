"""The logging set-up: bound context and ``extra`` become keys; library noise stays out."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from structlog.contextvars import bound_contextvars
from structlog.testing import capture_logs

from encosta import logs


class Tty(io.StringIO):
    """A buffer that says it is a terminal."""

    def isatty(self) -> bool:
        """Pretend to be one."""
        return True


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root logger and structlog back as they were."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    yield
    root.handlers[:], level = saved
    root.setLevel(level)
    structlog.reset_defaults()


def lines(buffer: io.StringIO) -> list[dict[str, object]]:
    """The JSON objects written to ``buffer``."""
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


@pytest.mark.usefixtures("restore_logging")
def test_bound_context_and_extra_are_keys_and_uvicorns_colour_copy_is_not() -> None:
    """Context bound per message and ``extra`` land in the JSON; ``color_message`` does not."""
    out = io.StringIO()
    logs.configure("INFO", json_logs=True, stream=out)
    with bound_contextvars(station="st-1", topic="encosta/rio/st-1/readings"):
        logging.getLogger("uvicorn.error").info(
            "msg", extra={"color_message": "\x1b[32mmsg\x1b[0m", "seq": 4}
        )
    logging.getLogger("encosta.test").info("after")
    first, after = lines(out)
    assert first["station"] == "st-1"
    assert first["topic"] == "encosta/rio/st-1/readings"
    assert first["seq"] == 4
    assert first["msg"] == "msg"
    assert first["level"] == "info"
    assert first["logger"] == "uvicorn.error"
    assert "color_message" not in first
    assert "\x1b[" not in out.getvalue()
    assert "station" not in after  # the context ends with its block


@pytest.mark.usefixtures("restore_logging")
def test_a_terminal_gets_readable_lines_redacted() -> None:
    """At a terminal a line is ``ts level message key=value``, with secrets masked."""
    out = Tty()
    logs.configure("INFO", stream=out)
    with bound_contextvars(zone="rocinha"):
        logging.getLogger("encosta.test").warning("token Bearer abc.def sent")
    text = out.getvalue()
    assert "zone=rocinha" in text
    assert "token Bearer *** sent" in text
    assert "abc.def" not in text
    assert not text.lstrip().startswith("{")


@pytest.mark.usefixtures("restore_logging")
def test_structlog_loggers_share_the_set_up() -> None:
    """A structlog logger's bound context is captured (``capture_logs``) and rendered."""
    out = io.StringIO()
    logs.configure("INFO", json_logs=True, stream=out)
    log = logs.get_logger("encosta.test").bind(zone="rocinha", alert_id=7)
    with capture_logs() as captured:
        log.info("alert acknowledged", by="duty")
    assert captured == [
        {"zone": "rocinha", "alert_id": 7, "by": "duty", "event": "alert acknowledged",
         "log_level": "info"}
    ]  # fmt: skip
    log.info("rendered")
    (entry,) = lines(out)
    assert entry["zone"] == "rocinha"
    assert entry["alert_id"] == 7
    assert entry["msg"] == "rendered"


def test_a_bad_level_names_the_choices() -> None:
    """``--log-level LOUD`` is refused with the levels that exist."""
    with pytest.raises(ValueError, match="DEBUG, INFO, WARNING"):
        logs.check_level("LOUD")
    assert logs.check_level("debug") == "DEBUG"
