"""The decoder: every reject reason, both payload forms, and no exception past its boundary."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.payload import (
    Limits,
    OutRecord,
    PayloadDecoder,
    encode_native,
    encode_senml,
    rfc3339,
)
from ingest.reasons import Reason

NOW = 1_795_000_000.0
TOPIC = "encosta/rio/st-1/readings"
SENML_TOPIC = "encosta/rio/st-1/readings/senml"


def decoder(**limits: float) -> PayloadDecoder:
    """A decoder for network rio that knows station st-1."""
    return PayloadDecoder("rio", lambda s: s == "st-1", Limits(**limits))  # type: ignore[arg-type]


def native(*records: Mapping[str, object], seq: int = 1) -> bytes:
    """A native payload with ``records``."""
    return json.dumps({"seq": seq, "records": list(records)}).encode()


def reasons(payload: bytes, topic: str = TOPIC, **limits: float) -> list[str]:
    """The reasons the decoder gives for ``payload``."""
    return [r.reason.value for r in decoder(**limits).decode(topic, payload, NOW).rejects]


def test_native_batch_decodes_every_quantity() -> None:
    """A native message with two records yields one reading per quantity and record."""
    payload = native(
        {"ts": rfc3339(NOW - 60), "rain_mm": 2.4, "vwc": 0.31, "battery_v": 3.9},
        {"ts": NOW, "rain_mm": 0.2, "vwc_d60": 0.28},
    )
    out = decoder().decode(TOPIC, payload, NOW)
    assert out.rejects == []
    assert [(r.quantity, r.value) for r in out.readings] == [
        ("rain_mm", 2.4),
        ("vwc", 0.31),
        ("battery_v", 3.9),
        ("rain_mm", 0.2),
        ("vwc_d60", 0.28),
    ]
    assert out.readings[0].ts.timestamp() == pytest.approx(NOW - 60, abs=1e-3)
    assert out.seq == 1


def test_single_record_without_envelope() -> None:
    """A bare record object (no ``records`` list) is one record."""
    out = decoder().decode(TOPIC, json.dumps({"ts": NOW, "rain_mm": 1.0}).encode(), NOW)
    assert [(r.quantity, r.value) for r in out.readings] == [("rain_mm", 1.0)]


def test_senml_pack_resolves_base_fields_and_units() -> None:
    """SenML base name, base time and base unit apply; Pa converts to kPa."""
    pack = [
        {"bn": "urn:dev:encosta:st-1:", "bt": NOW - 120, "bu": "mm", "n": "rain", "v": 1.5},
        {"n": "rain", "t": 60, "v": 0.5},
        {"n": "pore", "u": "Pa", "v": 12000},
    ]
    out = decoder().decode(SENML_TOPIC, json.dumps(pack).encode(), NOW)
    assert out.rejects == []
    assert [(r.quantity, r.value) for r in out.readings] == [
        ("rain_mm", 1.5),
        ("rain_mm", 0.5),
        ("pore_kpa", 12.0),
    ]
    assert out.readings[1].ts.timestamp() == pytest.approx(NOW - 60)


def test_senml_by_content_type_on_plain_topic() -> None:
    """The MQTT 5 content type application/senml+json selects the SenML decoder."""
    pack = [{"bt": NOW, "n": "rain", "u": "mm", "v": 1.0}]
    out = decoder().decode(TOPIC, json.dumps(pack).encode(), NOW, "application/senml+json")
    assert [(r.quantity, r.value) for r in out.readings] == [("rain_mm", 1.0)]
    assert out.readings[0].ts.timestamp() == pytest.approx(NOW)


def test_senml_relative_time_is_refused_never_resolved_against_the_clock() -> None:
    """SenML time below 2**28 (RFC 8428 4.5.3) is relative_time: a re-send cannot store twice."""
    pack = json.dumps(
        [{"n": "rain", "u": "mm", "v": 1.0}, {"n": "rain", "u": "mm", "t": -60, "v": 2}]
    )
    first = decoder().decode(SENML_TOPIC, pack.encode(), NOW)
    again = decoder().decode(SENML_TOPIC, pack.encode(), NOW + 30)
    assert [(r.reason.value, r.record_index) for r in first.rejects] == [
        ("relative_time", 0),
        ("relative_time", 1),
    ]
    assert first.readings == again.readings == []


def test_round_trip_of_both_encoders() -> None:
    """What the encoders write (the simulator's wire format), the decoder reads back."""
    records = [
        OutRecord(NOW - 900, {"rain_mm": 3.0, "vwc_d30": 0.3}),
        OutRecord(NOW, {"rain_mm": 0.0}),
    ]
    a = decoder().decode(TOPIC, encode_native(records, seq=7), NOW)
    b = decoder().decode(SENML_TOPIC, encode_senml("st-1", records), NOW)
    assert a.rejects == b.rejects == []
    assert [(r.quantity, r.ts, r.value) for r in a.readings] == [
        (r.quantity, r.ts, r.value) for r in b.readings
    ]


REASON_CASES: list[tuple[str, str, bytes, dict[str, float]]] = [
    ("bad_topic", "encosta/rio/st-1/other", b"{}", {}),
    ("unknown_station", "encosta/rio/ghost/readings", native({"ts": NOW, "rain_mm": 1}), {}),
    ("network_mismatch", "encosta/sp/st-1/readings", native({"ts": NOW, "rain_mm": 1}), {}),
    ("oversize_payload", TOPIC, native({"ts": NOW, "rain_mm": 1}), {"max_payload_bytes": 16}),
    ("malformed_json", TOPIC, b'{"records": [', {}),
    ("malformed_json", TOPIC, b"\xff\xfe", {}),
    ("wrong_type", TOPIC, b"[1, 2]", {}),
    ("wrong_type", TOPIC, native({"ts": NOW, "rain_mm": "2.4"}), {}),
    ("wrong_type", TOPIC, native({"ts": NOW, "rain_mm": True}), {}),
    ("wrong_type", TOPIC, native({"ts": "yesterday", "rain_mm": 1}), {}),
    ("missing_field", TOPIC, native({"rain_mm": 1}), {}),
    ("too_many_records", TOPIC, native(*[{"ts": NOW, "rain_mm": 1}] * 3), {"max_records": 2}),
    ("unit_missing", TOPIC, native({"ts": NOW, "rain": 1}), {}),
    ("unknown_quantity", TOPIC, native({"ts": NOW, "wind_kmh": 1}), {}),
    ("out_of_range", TOPIC, native({"ts": NOW, "rain_mm": -0.1}), {}),
    ("out_of_range", TOPIC, native({"ts": NOW, "vwc": 0.9}), {}),
    ("ts_future", TOPIC, native({"ts": NOW + 3600, "rain_mm": 1}), {}),
    ("ts_past", TOPIC, native({"ts": NOW - 40 * 86400, "rain_mm": 1}), {}),
    ("station_mismatch", TOPIC, json.dumps({"station": "st-2", "records": []}).encode(), {}),
    (
        "station_mismatch",
        SENML_TOPIC,
        json.dumps([{"bn": "urn:dev:encosta:st-2:", "n": "rain", "u": "mm", "v": 1}]).encode(),
        {},
    ),
    ("unit_missing", SENML_TOPIC, json.dumps([{"n": "rain", "v": 1}]).encode(), {}),
    ("wrong_unit", SENML_TOPIC, json.dumps([{"n": "rain", "u": "in", "v": 1}]).encode(), {}),
    ("relative_time", SENML_TOPIC, json.dumps([{"n": "rain", "u": "mm", "v": 1}]).encode(), {}),
    ("too_deep", TOPIC, b'{"records": [' * 20 + b"]}" * 20, {}),
    ("number_too_large", TOPIC, b'{"ts": 1795000000.0, "rain_mm": 1' + b"0" * 400 + b"}", {}),
]
# Produced by the writer (storage), or by no input at all (the last resort): tested on their own.
NOT_FROM_INPUT = {"storage_error", "conflicting_value", "internal_error"}


@pytest.mark.parametrize(("reason", "topic", "payload", "limits"), REASON_CASES)
def test_each_reject_reason(
    reason: str, topic: str, payload: bytes, limits: dict[str, float]
) -> None:
    """Each kind of bad input is rejected with its machine-readable reason and nothing stored."""
    out = decoder(**limits).decode(topic, payload, NOW)
    assert [r.reason.value for r in out.rejects] == [reason]
    assert out.readings == []


def test_every_reason_has_a_case() -> None:
    """The parametrised cases cover every declared reason but storage-side and last-resort ones."""
    assert {c[0] for c in REASON_CASES} == {r.value for r in Reason} - NOT_FROM_INPUT


def test_bad_record_is_rejected_alone() -> None:
    """One bad record of a batch is rejected with its index; the others are kept."""
    payload = native(
        {"ts": NOW, "rain_mm": 1}, {"ts": NOW - 60, "rain_mm": 999}, {"ts": NOW - 120, "vwc": 0.2}
    )
    out = decoder().decode(TOPIC, payload, NOW)
    assert [(r.reason.value, r.record_index) for r in out.rejects] == [("out_of_range", 1)]
    assert json.loads(out.rejects[0].raw)["rain_mm"] == 999
    assert len(out.readings) == 2


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "ts",
                    "rain_mm",
                    "vwc",
                    "records",
                    "seq",
                    "n",
                    "v",
                    "u",
                    "bn",
                    "bt",
                    "t",
                    "station",
                    "rain",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=300), senml=st.booleans())
def test_random_bytes_never_raise(payload: bytes, senml: bool) -> None:
    """Random bytes are decoded or rejected; the decoder never raises."""
    out = decoder().decode(SENML_TOPIC if senml else TOPIC, payload, time.time())
    assert out.readings or out.rejects or _empty_document(payload)


def _empty_document(payload: bytes) -> bool:
    try:
        document = json.loads(payload)
    except ValueError:
        return False
    return document == [] or (isinstance(document, dict) and document.get("records") == [])


@settings(max_examples=400, deadline=None)
@given(document=JSON, senml=st.booleans())
def test_random_json_never_raises(document: object, senml: bool) -> None:
    """Random JSON documents are decoded or rejected with a reason; the decoder never raises."""
    payload = json.dumps(document).encode()
    out = decoder().decode(SENML_TOPIC if senml else TOPIC, payload, NOW)
    for reject in out.rejects:
        assert reject.reason in set(Reason)
    for reading in out.readings:
        assert reading.station_id == "st-1"
