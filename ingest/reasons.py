"""Machine-readable reasons a message or record goes to the ``rejects`` table."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why input was rejected. The values are stored and counted; never rename one."""

    BAD_TOPIC = "bad_topic"
    OVERSIZE_PAYLOAD = "oversize_payload"
    MALFORMED_JSON = "malformed_json"
    WRONG_TYPE = "wrong_type"
    MISSING_FIELD = "missing_field"
    TOO_MANY_RECORDS = "too_many_records"
    UNIT_MISSING = "unit_missing"
    WRONG_UNIT = "wrong_unit"
    UNKNOWN_QUANTITY = "unknown_quantity"
    OUT_OF_RANGE = "out_of_range"
    TS_FUTURE = "ts_future"
    TS_PAST = "ts_past"
    UNKNOWN_STATION = "unknown_station"
    STATION_MISMATCH = "station_mismatch"
    NETWORK_MISMATCH = "network_mismatch"
    STORAGE_ERROR = "storage_error"  # valid on the wire, refused by the database (writer)
    TOO_DEEP = "too_deep"  # JSON nested deeper than the limit, refused before decoding
    NUMBER_TOO_LARGE = "number_too_large"  # a number with too many digits or beyond float64
    RELATIVE_TIME = "relative_time"  # SenML time relative to the receiver's clock (t < 2**28)
    CONFLICTING_VALUE = "conflicting_value"  # same station, quantity, ts; another value (writer)
    INTERNAL_ERROR = "internal_error"  # last resort: an unexpected exception on one message
