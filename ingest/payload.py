"""Decode and encode reading payloads: native JSON and SenML (RFC 8428).

The decoder is the service's boundary with the field: it turns any bytes into accepted
:class:`Reading` rows and :class:`Rejected` entries with a reason, and never raises on input.
A record with one bad field is rejected whole (a half-stored record would look complete);
the other records of the same message are kept.

Totality is layered: the envelope (topic, size, station) and the shape of the JSON (depth,
digits, object count, :mod:`ingest.prescan`) are checked before msgspec decodes anything;
every check raises :class:`PayloadError` with a :class:`Reason`; and a last-resort
``except Exception`` turns anything unforeseen into an ``internal_error`` reject of the whole
message, so that no input can end the service or make the broker redeliver it forever.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec
from structlog.contextvars import bound_contextvars

from ingest import prescan, quantity
from ingest.errors import PayloadError
from ingest.reasons import Reason
from ingest.topic import PayloadForm, ReadingsTopic

log = logging.getLogger("encosta.ingest.payload")
SENML_CONTENT_TYPE = "application/senml+json"
# RFC 8428 §4.5.3: a resolved time below 2**28 is relative to the receiver's clock. Resolving it
# against the receive clock would give a redelivered message new timestamps (stored twice), so
# such records are refused as relative_time (docs/ingest.md, "Exactly once").
_SENML_RELATIVE = 2.0**28
# Fields of a SenML record of its own (RFC 8428 4.1); one without any carries only base fields.
_SENML_OWN_FIELDS = frozenset({"n", "u", "v", "vs", "vb", "vd", "s", "t", "ut"})
_SHOWN_CHARS = 80  # of a bad value quoted in a reject's detail
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Limits:
    """What the decoder accepts; see ``IngestConfig`` for the environment variables."""

    max_payload_bytes: int = 256 * 1024
    max_records: int = 1000
    max_future_s: float = 300.0
    max_past_s: float = 30 * 86400.0
    max_depth: int = 16


class Reading(msgspec.Struct, frozen=True, gc=False):
    """One accepted value: a row of the ``readings`` hypertable.

    A msgspec Struct rather than a dataclass: one is built per reading on the hot path, and a
    frozen dataclass's ``__init__`` costs several times more.
    """

    station_id: str
    quantity: str
    ts: datetime
    value: float


@dataclass(frozen=True, slots=True)
class Rejected:
    """One rejected message (``record_index`` None) or record, with the bytes that carried it."""

    reason: Reason
    detail: str
    raw: bytes
    record_index: int | None = None


@dataclass(slots=True)
class Decoded:
    """What one message turned into."""

    readings: list[Reading] = field(default_factory=list)
    rejects: list[Rejected] = field(default_factory=list)
    station_id: str | None = None
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class OutRecord:
    """A record to encode: epoch seconds and quantity values by native name."""

    ts: float
    values: Mapping[str, float]


_json_decode = msgspec.json.Decoder().decode
_json_encode = msgspec.json.Encoder().encode


def _reject(reason: Reason, detail: str, raw: bytes, index: int | None = None) -> Rejected:
    return Rejected(reason, detail, raw, index)


def _shown(value: object) -> str:
    """``repr(value)``, cut short: a hostile value must not become a huge detail."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


def _number(value: object, what: str) -> float:
    # bool is an int in Python but never a measurement.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(
            Reason.WRONG_TYPE, f"{what} must be a number, not {type(value).__name__}"
        )
    try:
        # + 0.0 turns -0.0 into 0.0: one stored zero, whichever sign a re-send carries.
        result = float(value) + 0.0
    except OverflowError:  # prescan bounds digits; kept in case a caller skips it
        raise PayloadError(Reason.NUMBER_TOO_LARGE, f"{what} does not fit a float") from None
    if not math.isfinite(result):
        raise PayloadError(Reason.OUT_OF_RANGE, f"{what} is not finite")
    return result


def _timestamp(value: object, now: float, limits: Limits) -> datetime:
    if isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value)
        except ValueError:
            raise PayloadError(Reason.WRONG_TYPE, f"ts {_shown(value)} is not RFC 3339") from None
        if ts.tzinfo is None:
            raise PayloadError(Reason.WRONG_TYPE, f"ts {_shown(value)} has no UTC offset")
        epoch = ts.timestamp()
    else:
        epoch = _number(value, "ts")
        ts = _from_epoch(epoch)
    if epoch > now + limits.max_future_s:
        raise PayloadError(
            Reason.TS_FUTURE, f"ts {_shown(value)} is more than {limits.max_future_s:g} s ahead"
        )
    if epoch < now - limits.max_past_s:
        raise PayloadError(
            Reason.TS_PAST, f"ts {_shown(value)} is more than {limits.max_past_s:g} s old"
        )
    return ts.astimezone(UTC)


def _from_epoch(epoch: float) -> datetime:
    try:
        return datetime.fromtimestamp(epoch, UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(
            Reason.OUT_OF_RANGE, f"ts {epoch!r} is not a representable time"
        ) from None


class PayloadDecoder:
    """Decodes messages of one network against the station registry."""

    def __init__(
        self,
        network: str,
        is_known_station: Callable[[str], bool],
        limits: Limits | None = None,
    ) -> None:
        self.network = network
        self.is_known_station = is_known_station
        self.limits = limits or Limits()

    def decode(
        self, topic: str, payload: bytes, now: float, content_type: str | None = None
    ) -> Decoded:
        """Decode one message; every failure becomes a :class:`Rejected`, nothing raises."""
        out = Decoded()
        try:
            self._decode(topic, payload, now, content_type, out)
        except Exception as exc:  # the last resort: one message never ends ingest
            parts = topic.split("/")
            station = parts[2] if len(parts) > 2 else None
            with bound_contextvars(topic=topic, station=station):
                log.exception("unexpected error decoding a message")
            out.readings.clear()
            out.rejects[:] = [
                _reject(Reason.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}", payload)
            ]
        return out

    def _decode(
        self, topic: str, payload: bytes, now: float, content_type: str | None, out: Decoded
    ) -> None:
        try:
            parsed = self._envelope(topic, payload)
            out.station_id = parsed.station_id
            prescan.check(payload, self.limits.max_depth, self.limits.max_records)
            document = _json_decode(payload)
        except PayloadError as exc:
            out.rejects.append(_reject(exc.reason, exc.detail, payload))
            return
        except msgspec.ValidationError as exc:  # untyped decoding: only a number out of range
            out.rejects.append(_reject(Reason.NUMBER_TOO_LARGE, str(exc), payload))
            return
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            out.rejects.append(_reject(Reason.MALFORMED_JSON, str(exc), payload))
            return
        senml = parsed.form is PayloadForm.SENML or content_type == SENML_CONTENT_TYPE
        try:
            if senml:
                self._senml(parsed.station_id, document, payload, now, out)
            else:
                self._native(parsed.station_id, document, payload, now, out)
        except PayloadError as exc:
            out.readings.clear()
            out.rejects.append(_reject(exc.reason, exc.detail, payload))

    def _envelope(self, topic: str, payload: bytes) -> ReadingsTopic:
        parsed = ReadingsTopic.parse(topic)
        if len(payload) > self.limits.max_payload_bytes:
            raise PayloadError(
                Reason.OVERSIZE_PAYLOAD,
                f"{len(payload)} bytes > {self.limits.max_payload_bytes}",
            )
        if parsed.network != self.network:
            raise PayloadError(Reason.NETWORK_MISMATCH, f"network {parsed.network!r} is not ours")
        if not self.is_known_station(parsed.station_id):
            raise PayloadError(
                Reason.UNKNOWN_STATION, f"station {parsed.station_id!r} not registered"
            )
        return parsed

    def _check_count(self, count: int) -> None:
        if count > self.limits.max_records:
            raise PayloadError(
                Reason.TOO_MANY_RECORDS, f"{count} records > {self.limits.max_records}"
            )

    def _native(
        self, station: str, document: object, payload: bytes, now: float, out: Decoded
    ) -> None:
        if not isinstance(document, dict):
            raise PayloadError(Reason.WRONG_TYPE, "payload must be a JSON object")
        claimed = document.get("station")
        if claimed is not None and claimed != station:
            raise PayloadError(
                Reason.STATION_MISMATCH, f"payload station {_shown(claimed)} != topic {station!r}"
            )
        seq = document.get("seq")
        if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int)):
            raise PayloadError(Reason.WRONG_TYPE, "seq must be an integer")
        out.seq = seq
        if "records" in document:
            records = document["records"]
            if not isinstance(records, list):
                raise PayloadError(Reason.WRONG_TYPE, "records must be a list")
        else:
            records = [{k: v for k, v in document.items() if k not in ("seq", "station")}]
        self._check_count(len(records))
        for index, record in enumerate(records):
            try:
                out.readings.extend(self._native_record(station, record, now))
            except PayloadError as exc:
                raw = _json_encode(record) if len(records) > 1 else payload
                out.rejects.append(_reject(exc.reason, exc.detail, raw, index))

    def _native_record(self, station: str, record: object, now: float) -> list[Reading]:
        if not isinstance(record, dict):
            raise PayloadError(Reason.WRONG_TYPE, "a record must be a JSON object")
        if "ts" not in record:
            raise PayloadError(Reason.MISSING_FIELD, "record has no ts")
        ts = _timestamp(record["ts"], now, self.limits)
        readings = []
        for key, raw_value in record.items():
            if key == "ts":
                continue
            q = quantity.native(key)
            readings.append(Reading(station, q.name, ts, q.check(_number(raw_value, key))))
        if not readings:
            raise PayloadError(Reason.MISSING_FIELD, "record has a ts but no quantity")
        return readings

    def _senml(
        self, station: str, document: object, payload: bytes, now: float, out: Decoded
    ) -> None:
        if isinstance(document, dict):
            document = [document]
        if not isinstance(document, list):
            raise PayloadError(Reason.WRONG_TYPE, "SenML pack must be a JSON array")
        self._check_count(len(document))
        base = _SenmlBase()
        for index, record in enumerate(document):
            try:
                reading = self._senml_record(station, record, base, now)
            except PayloadError as exc:
                raw = _json_encode(record) if len(document) > 1 else payload
                out.rejects.append(_reject(exc.reason, exc.detail, raw, index))
            else:
                if reading is not None:
                    out.readings.append(reading)

    def _senml_record(
        self, station: str, record: object, base: _SenmlBase, now: float
    ) -> Reading | None:
        if not isinstance(record, dict):
            raise PayloadError(Reason.WRONG_TYPE, "a SenML record must be a JSON object")
        base.update(record)
        if record.keys().isdisjoint(_SENML_OWN_FIELDS):
            return None  # a record of base fields only (found by tests/ingest/test_fuzz.py)
        name = base.name + _text(record.get("n", ""), "n")
        device, _, qname = name.rpartition(":")
        if device:
            claimed = device.rpartition(":")[2]
            if claimed != station:
                raise PayloadError(
                    Reason.STATION_MISMATCH, f"SenML name {_shown(name)} is not {station!r}"
                )
        q = quantity.senml(qname)
        if "v" not in record:
            raise PayloadError(
                Reason.MISSING_FIELD, f"{name}: only numeric values 'v' are accepted"
            )
        unit = _text(record["u"], "u") if "u" in record else base.unit
        if unit is None:
            raise PayloadError(Reason.UNIT_MISSING, f"{name}: no 'u' and no base unit 'bu'")
        factor = q.senml_units.get(unit)
        if factor is None:
            raise PayloadError(
                Reason.WRONG_UNIT, f"{name}: unit {_shown(unit)} not in {sorted(q.senml_units)}"
            )
        t = base.time + (_number(record["t"], "t") if "t" in record else 0.0)
        if abs(t) < _SENML_RELATIVE:
            raise PayloadError(
                Reason.RELATIVE_TIME,
                f"{name}: time {t!r} is relative to the receiver's clock (RFC 8428 4.5.3);"
                " send an absolute 'bt' or 't' (epoch seconds)",
            )
        ts = _timestamp(t, now, self.limits)
        return Reading(station, q.name, ts, q.check(_number(record["v"], name) * factor))


@dataclass(slots=True)
class _SenmlBase:
    """Base fields in force; they carry over to later records (RFC 8428 §4.1)."""

    name: str = ""
    time: float = 0.0
    unit: str | None = None

    def update(self, record: dict[str, object]) -> None:
        if "bn" in record:
            self.name = _text(record["bn"], "bn")
        if "bt" in record:
            self.time = _number(record["bt"], "bt")
        if "bu" in record:
            self.unit = _text(record["bu"], "bu")


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise PayloadError(Reason.WRONG_TYPE, f"{what} must be a string")
    return value


def rfc3339(epoch: float) -> str:
    """Epoch seconds as RFC 3339 UTC with millisecond precision, e.g. 2026-11-24T19:00:00.000Z."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def encode_native(records: Sequence[OutRecord], *, seq: int | None = None) -> bytes:
    """The native payload for ``records`` (what a field gateway sends)."""
    body: dict[str, object] = {}
    if seq is not None:
        body["seq"] = seq
    body["records"] = [{"ts": rfc3339(r.ts), **r.values} for r in records]
    return _json_encode(body)


def encode_senml(station_id: str, records: Sequence[OutRecord]) -> bytes:
    """A SenML pack for ``records``: base name ``urn:dev:encosta:<station>:``, base time first."""
    pack: list[dict[str, object]] = []
    if not records:
        return b"[]"
    base_time = records[0].ts
    for i, record in enumerate(records):
        for key, value in record.values.items():
            q = quantity.native(key)
            entry: dict[str, object] = {"n": q.senml_name, "u": _senml_unit(q), "v": value}
            if record.ts != base_time:
                entry["t"] = record.ts - base_time
            if not pack:
                entry = {"bn": f"urn:dev:encosta:{station_id}:", "bt": base_time, **entry}
            pack.append(entry)
        del i
    return _json_encode(pack)


def _senml_unit(q: quantity.Quantity) -> str:
    return next(unit for unit, factor in q.senml_units.items() if factor == 1.0)


def epoch_of(ts: datetime) -> float:
    """Seconds since the epoch of an aware datetime."""
    return (ts - _EPOCH).total_seconds()
