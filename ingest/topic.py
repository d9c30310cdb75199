"""MQTT topics of the wire contract.

Readings arrive on ``encosta/<network>/<station_id>/readings`` (native JSON) or
``encosta/<network>/<station_id>/readings/senml`` (SenML JSON, RFC 8428). The station id in
the topic is authoritative: the broker's ACL lets a station publish only under its own id.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum

from ingest.errors import PayloadError
from ingest.reasons import Reason
from registry.ids import ID_PATTERN

ROOT = "encosta"


class PayloadForm(StrEnum):
    """Which decoder a message goes to."""

    NATIVE = "native"
    SENML = "senml"


@dataclass(frozen=True, slots=True)
class ReadingsTopic:
    """A parsed readings topic."""

    network: str
    station_id: str
    form: PayloadForm

    def __post_init__(self) -> None:
        for name, value in (("network", self.network), ("station_id", self.station_id)):
            if not ID_PATTERN.fullmatch(value):
                raise PayloadError(Reason.BAD_TOPIC, f"{name} {value!r} is not a valid identifier")

    def __str__(self) -> str:
        base = f"{ROOT}/{self.network}/{self.station_id}/readings"
        return f"{base}/senml" if self.form is PayloadForm.SENML else base

    @classmethod
    def parse(cls, topic: str) -> ReadingsTopic:
        """Parse a topic string; raise ``PayloadError`` (``bad_topic``) when it is not ours."""
        return _parse(topic)

    @classmethod
    def _parse_uncached(cls, topic: str) -> ReadingsTopic:
        parts = topic.split("/")
        if len(parts) == 4 and parts[0] == ROOT and parts[3] == "readings":
            return cls(parts[1], parts[2], PayloadForm.NATIVE)
        if len(parts) == 5 and parts[0] == ROOT and parts[3:] == ["readings", "senml"]:
            return cls(parts[1], parts[2], PayloadForm.SENML)
        raise PayloadError(
            Reason.BAD_TOPIC, f"{topic!r} is not encosta/<network>/<station>/readings"
        )


@functools.lru_cache(maxsize=65536)
def _parse(topic: str) -> ReadingsTopic:
    # One topic per station and form: parsing and validating each message's topic anew was a
    # tenth of the ingest hot path. Failures raise and are not cached.
    return ReadingsTopic._parse_uncached(topic)  # noqa: SLF001


def subscription(network: str, group: str | None) -> str:
    """The filter for ``network``'s readings, shared by the replicas of ``group`` if given.

    Both forms: ``#`` matches the optional trailing ``senml``.
    """
    topic_filter = f"{ROOT}/{network}/+/readings/#"
    return f"$share/{group}/{topic_filter}" if group else topic_filter
