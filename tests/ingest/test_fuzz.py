"""Fuzzing the decoder: hostile corpus, valid and mutated messages, and the MQTT callback."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.config import IngestConfig
from ingest.metrics import IngestMetrics
from ingest.payload import Decoded, Limits, PayloadDecoder, Rejected
from ingest.reasons import Reason
from ingest.service import IngestService, topic_text
from ingest.writer import BatchWriter, Message
from tests.ingest.hostile import Hostile, corpus, mutated, valid_native, valid_senml

NOW = 1_795_000_000.0
TOPIC = "encosta/rio/st-1/readings"
SENML_TOPIC = "encosta/rio/st-1/readings/senml"
RAW_LIMIT = 4096
CORPUS = corpus(NOW, "st-1")
BUDGET = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decoder() -> PayloadDecoder:
    """A decoder for network rio that knows station st-1, default limits."""
    return PayloadDecoder("rio", lambda s: s == "st-1", Limits())


def check_total(out: Decoded) -> None:
    """What every decoded message must satisfy, valid or hostile."""
    writer = BatchWriter("postgresql://unused", IngestMetrics(), reject_raw_bytes=RAW_LIMIT)
    message = Message(TOPIC, b"", out.readings, out.rejects, "st-1")
    for reject in out.rejects:
        assert isinstance(reject.reason, Reason)
        row = writer.reject_row(message, reject, message.digest)
        raw, length, digest = row[5], row[6], row[7]
        assert isinstance(raw, bytes)
        assert len(raw) <= RAW_LIMIT
        assert length == len(reject.raw)
        assert digest == hashlib.sha256(reject.raw).digest()
        assert isinstance(row[3], str)
        assert len(row[3]) <= 1000
    for reading in out.readings:
        assert reading.station_id == "st-1"
        assert reading.value == reading.value  # not NaN
        assert abs(reading.value) <= 500


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_hostile_corpus_gets_its_reason(case: Hostile) -> None:
    """Each hostile payload is rejected with its reason (or stored when valid), never raising."""
    out = decoder().decode(SENML_TOPIC if case.senml else TOPIC, case.payload, NOW)
    check_total(out)
    if case.reason is None:
        assert out.rejects == []
        assert len(out.readings) == case.readings
    else:
        assert {r.reason.value for r in out.rejects} == {case.reason}
        assert out.readings == []


def test_negative_zero_and_duplicate_keys_are_stored_as_one_value() -> None:
    """-0.0 is stored as 0.0 and a duplicated key keeps its last value (as JSON parsers do)."""
    cases = {c.name: c for c in CORPUS}
    zero = decoder().decode(TOPIC, cases["negative_zero"].payload, NOW).readings[0].value
    assert str(zero) == "0.0"
    assert decoder().decode(TOPIC, cases["duplicate_keys"].payload, NOW).readings[0].value == 2.0


@BUDGET
@given(payload=valid_native(NOW))
def test_valid_native_messages_decode_whole(payload: bytes) -> None:
    """Every generated valid native message yields one reading per quantity and no reject."""
    out = decoder().decode(TOPIC, payload, NOW)
    assert out.rejects == []
    expected = sum(len(r) - 1 for r in json.loads(payload)["records"])
    assert len(out.readings) == expected
    check_total(out)


@BUDGET
@given(payload=valid_senml(NOW, "st-1"))
def test_valid_senml_packs_decode_whole(payload: bytes) -> None:
    """Every generated valid SenML pack yields one reading per record and no reject."""
    out = decoder().decode(SENML_TOPIC, payload, NOW)
    assert out.rejects == []
    assert len(out.readings) == len(json.loads(payload)) - 1
    check_total(out)


@BUDGET
@given(payload=mutated(valid_native(NOW)) | mutated(valid_senml(NOW, "st-1")), senml=st.booleans())
def test_mutated_messages_never_raise(payload: bytes, senml: bool) -> None:
    """Mutated messages decode to readings or rejects with a Reason; stored raw stays bounded."""
    out = decoder().decode(SENML_TOPIC if senml else TOPIC, payload, NOW)
    assert out.readings or out.rejects or nothing_to_store(payload, senml=senml)
    check_total(out)


def nothing_to_store(payload: bytes, *, senml: bool = False) -> bool:
    """Whether ``payload`` is valid JSON holding no record: an empty pack or records list.

    On a SenML topic one object is a pack of one record, as the decoder reads it.
    """
    try:
        document = json.loads(payload)
    except ValueError:
        return False
    if isinstance(document, dict) and senml:
        document = [document]
    if isinstance(document, dict):
        return document.get("records") == [] or (set(document) <= {"seq", "station", "records"})
    return isinstance(document, list) and all(
        isinstance(r, dict) and "n" not in r for r in document
    )


def test_invalid_utf8_topic_becomes_bad_topic() -> None:
    """A topic that is not UTF-8 (paho's message.topic would raise) is a bad_topic reject."""
    topic = topic_text(b"encosta/rio/st-\xff\xfe1/readings")
    out = decoder().decode(topic, b'{"ts": 1795000000, "rain_mm": 1}', NOW)
    assert [r.reason.value for r in out.rejects] == ["bad_topic"]
    check_total(out)


async def test_accept_queues_a_reject_for_anything() -> None:
    """The MQTT callback queues a reject (acknowledged later) for a bad topic or a decoder bug."""
    service = IngestService(IngestConfig(dsn="postgresql://unused"))
    service._accept(topic_text(b"encosta/rio/\xc3(/readings"), b"{}", 7, 1, None, 0)

    class Broken(PayloadDecoder):
        def decode(self, *_args: object, **_kwargs: object) -> Decoded:
            raise MemoryError("an unforeseen failure")

    service.decoder = Broken("rio", lambda _: True)
    service._accept("encosta/rio/st-1/readings", b"{}", 8, 1, None, 0)
    first, second = service._queue.get_nowait(), service._queue.get_nowait()
    assert first is not None
    assert second is not None
    assert (first.mid, [r.reason.value for r in first.rejects]) == (7, ["bad_topic"])
    assert (second.mid, [r.reason.value for r in second.rejects]) == (8, ["internal_error"])
    assert "MemoryError" in second.rejects[0].detail


def test_decoder_bug_is_an_internal_error_reject() -> None:
    """An exception inside decoding (here: the registry callback) is an internal_error reject."""

    def registry(_station: str) -> bool:
        raise RuntimeError("registry bug")

    out = PayloadDecoder("rio", registry).decode(TOPIC, b'{"ts": 1, "rain_mm": 1}', time.time())
    assert [(r.reason.value, r.detail) for r in out.rejects] == [
        ("internal_error", "RuntimeError: registry bug")
    ]


def test_reject_row_text_is_storable() -> None:
    """NUL and lone surrogates (an exception's text may hold them) never reach PostgreSQL text."""
    writer = BatchWriter("postgresql://unused", IngestMetrics())
    reject = Rejected(Reason.INTERNAL_ERROR, "KeyError: \x00\ud800", b"x")
    message = Message("encosta/rio/st-1\x00/readings", b"x", [], [reject], None)
    row = writer.reject_row(message, reject, message.digest)
    for text in (row[0], row[3]):
        assert isinstance(text, str)
        text.encode("utf-8")  # raises on a lone surrogate
        assert "\x00" not in text
