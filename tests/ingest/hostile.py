"""Hostile input for the decoder: a corpus with the reason each case must get, and strategies.

Shared by the unit fuzz tests (tests/ingest/test_fuzz.py), the end-to-end poison test
(tests/ingest/test_poison.py) and the longer run of ``bench/fuzz.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from hypothesis import strategies as st

from ingest.payload import rfc3339
from ingest.quantity import BASE_QUANTITIES

DIGITS_400 = b"1" + b"0" * 399


@dataclass(frozen=True, slots=True)
class Hostile:
    """One hostile message: what it is, where it goes, and the reason it must get."""

    name: str
    payload: bytes
    reason: str | None  # None: valid, stored as ``readings`` readings
    senml: bool = False
    readings: int = 0


def corpus(now: float, station: str) -> list[Hostile]:
    """Every hostile case, its times around ``now``, naming ``station`` where a payload does."""
    ts = b"%.3f" % now
    bn = f"urn:dev:encosta:{station}:".encode()

    def native(body: bytes) -> bytes:
        return b'{"records": [{"ts": ' + ts + b", " + body + b"}]}"

    def pack(*records: dict[str, object]) -> bytes:
        return json.dumps(list(records)).encode()

    truncated = native(b'"rain_mm": 1.5, "vwc": 0.3')
    return [
        Hostile("int_400_digits", native(b'"rain_mm": ' + DIGITS_400), "number_too_large"),
        Hostile("ts_400_digits", b'{"ts": ' + DIGITS_400 + b', "rain_mm": 1}', "number_too_large"),
        Hostile("fraction_400_digits", native(b'"rain_mm": 0.' + b"1" * 400), "number_too_large"),
        Hostile("float_1e400", native(b'"rain_mm": 1e400'), "number_too_large"),
        Hostile("float_tiny", native(b'"rain_mm": 1e-400'), None, readings=1),
        Hostile("negative_zero", native(b'"rain_mm": -0.0'), None, readings=1),
        Hostile("nan_literal", native(b'"rain_mm": NaN'), "malformed_json"),
        Hostile("infinity_literal", native(b'"rain_mm": Infinity'), "malformed_json"),
        Hostile("minus_infinity_literal", native(b'"rain_mm": -Infinity'), "malformed_json"),
        Hostile("arrays_1000_deep", b"[" * 1000 + b"]" * 1000, "too_deep"),
        Hostile("objects_1000_deep", b'{"a": ' * 1000 + b"1" + b"}" * 1000, "too_deep"),
        Hostile(
            "deep_inside_a_record",
            native(b'"rain_mm": ' + b"[" * 1000 + b"]" * 1000),
            "too_deep",
        ),
        Hostile("deep_senml", b"[" * 1000 + b"]" * 1000, "too_deep", senml=True),
        Hostile("unclosed_arrays", b"[" * 5000, "malformed_json"),
        Hostile("truncated", truncated[: len(truncated) // 2], "malformed_json"),
        Hostile("empty", b"", "malformed_json"),
        Hostile("whitespace", b" \n\t ", "malformed_json"),
        Hostile("invalid_utf8", native(b'"rain_mm": 1, "x": "\xff\xfe"'), "malformed_json"),
        Hostile("lone_surrogate_key", native(b'"\\ud800": 1'), "malformed_json"),
        Hostile("nul_in_key", native(b'"rain_mm\\u0000": 1'), "unknown_quantity"),
        Hostile("huge_string", b'{"ts": "' + b"9" * 200_000 + b'", "rain_mm": 1}', "wrong_type"),
        Hostile("digits_in_a_string", b'{"station": "' + b"7" * 500 + b'"}', "station_mismatch"),
        Hostile("brackets_in_a_string", b'{"station": "' + b"[{" * 500 + b'"}', "station_mismatch"),
        Hostile("payload_1mb", b'{"x": "' + b"a" * (1 << 20) + b'"}', "oversize_payload"),
        Hostile("payload_10mb", b'{"x": "' + b"a" * (10 << 20) + b'"}', "oversize_payload"),
        Hostile(
            "many_empty_objects",
            b'{"records": [' + b",".join([b"{}"] * 50_000) + b"]}",
            "too_many_records",
        ),
        Hostile("duplicate_keys", native(b'"rain_mm": 1, "rain_mm": 2'), None, readings=1),
        Hostile("bool_value", native(b'"rain_mm": true'), "wrong_type"),
        Hostile("null_value", native(b'"rain_mm": null'), "wrong_type"),
        Hostile("bool_ts", b'{"ts": false, "rain_mm": 1}', "wrong_type"),
        Hostile("scalar_document", b"5", "wrong_type"),
        Hostile("records_not_a_list", b'{"records": {"ts": 1}}', "wrong_type"),
        Hostile("seq_float", b'{"seq": 1.5, "records": []}', "wrong_type"),
        Hostile(
            "bn_not_a_string",
            pack({"bn": 5, "bt": now, "n": "rain", "u": "mm", "v": 1}),
            "wrong_type",
            senml=True,
        ),
        Hostile(
            "bn_huge",
            pack({"bn": "x" * 100_000, "bt": now, "n": "rain", "u": "mm", "v": 1}),
            "unknown_quantity",
            senml=True,
        ),
        Hostile(
            "bt_string",
            pack({"bn": bn.decode(), "bt": "now", "n": "rain", "u": "mm", "v": 1}),
            "wrong_type",
            senml=True,
        ),
        Hostile(
            "bt_bool",
            pack({"bt": True, "n": "rain", "u": "mm", "v": 1}),
            "wrong_type",
            senml=True,
        ),
        Hostile(
            "bt_overflow",
            pack({"bt": 1e308, "t": 1e308, "n": "rain", "u": "mm", "v": 1}),
            "out_of_range",
            senml=True,
        ),
        Hostile(
            "bt_400_digits",
            b'[{"bt": ' + DIGITS_400 + b', "n": "rain", "u": "mm", "v": 1}]',
            "number_too_large",
            senml=True,
        ),
        Hostile(
            "relative_time",
            pack({"n": "rain", "u": "mm", "v": 1.5}),
            "relative_time",
            senml=True,
        ),
        Hostile(
            "relative_base_time",
            pack({"bt": -3600, "n": "rain", "u": "mm", "v": 1.5}),
            "relative_time",
            senml=True,
        ),
        Hostile(
            "senml_bool_value",
            pack({"bt": now, "n": "rain", "u": "mm", "v": False}),
            "wrong_type",
            senml=True,
        ),
        Hostile(
            "senml_many_arrays",
            b"[" + b",".join([b"[]"] * 50_000) + b"]",
            "too_many_records",
            senml=True,
        ),
        Hostile(
            "senml_valid",
            pack({"bn": bn.decode(), "bt": now, "n": "rain", "u": "mm", "v": 0.5}),
            None,
            senml=True,
            readings=1,
        ),
    ]


# Valid values of every quantity, in their stored units; a valid record has at least one.
_VALUES = {q.name: st.floats(q.minimum, q.maximum, allow_nan=False) for q in BASE_QUANTITIES}
_VALUES["vwc_d30"] = _VALUES["vwc"]


def valid_record(now: float) -> st.SearchStrategy[dict[str, float | str]]:
    """A valid native record: ``ts`` in the last day (RFC 3339 or epoch), known quantities."""
    epochs = st.floats(now - 86400, now, allow_nan=False)
    times: st.SearchStrategy[float | str] = epochs | epochs.map(rfc3339)
    values: dict[str, st.SearchStrategy[float | str]] = dict(_VALUES)
    return st.fixed_dictionaries({"ts": times}, optional=values).filter(
        lambda record: len(record) > 1
    )


def valid_native(now: float) -> st.SearchStrategy[bytes]:
    """A valid native message of 1 to 20 records."""
    return st.lists(valid_record(now), min_size=1, max_size=20).map(
        lambda records: json.dumps({"seq": 1, "records": records}).encode()
    )


def valid_senml(now: float, station: str) -> st.SearchStrategy[bytes]:
    """A valid SenML pack: base name and absolute base time, 1 to 20 rain/vwc records."""
    record = st.fixed_dictionaries(
        {
            "n": st.just("rain"),
            "u": st.just("mm"),
            "v": _VALUES["rain_mm"],
            "t": st.floats(-86400, 0, allow_nan=False),
        }
    ) | st.fixed_dictionaries({"n": st.just("vwc_d30"), "u": st.just("/"), "v": _VALUES["vwc"]})

    def build(records: list[dict[str, object]]) -> bytes:
        pack = [{"bn": f"urn:dev:encosta:{station}:", "bt": now}, *records]
        return json.dumps(pack).encode()

    return st.lists(record, min_size=1, max_size=20).map(build)


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[bytes]) -> bytes:
    """A valid payload with a few bytes flipped, cut, duplicated or spliced with hostile text."""
    payload = bytearray(draw(valid))
    splices = [b"[" * 300, b"{", b"}", b"]", b'"', b"\\", b"\xff", DIGITS_400, b"NaN", b"-0"]
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(payload)))
        kind = draw(st.sampled_from(["flip", "cut", "splice", "repeat"]))
        if kind == "flip" and at < len(payload):
            payload[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del payload[at : at + draw(st.integers(1, 16))]
        elif kind == "splice":
            payload[at:at] = draw(st.sampled_from(splices))
        else:
            payload[at:at] = payload[max(0, at - 8) : at] * draw(st.integers(1, 50))
    return bytes(payload)
