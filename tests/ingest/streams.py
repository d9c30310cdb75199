"""Streams of readings for the ingest tests, with the exact count each one should store."""

from __future__ import annotations

import json
import time


def stream_lines(count: int, *, start: float | None = None, step_s: float = 1.0) -> list[bytes]:
    """``count`` one-reading native messages with distinct timestamps ending about now."""
    start = time.time() - count * step_s - 60 if start is None else start
    return [
        json.dumps(
            {"seq": i, "records": [{"ts": round(start + i * step_s, 3), "rain_mm": 0.2}]}
        ).encode()
        for i in range(count)
    ]


def batched_lines(
    messages: int, per_message: int, *, start: float | None = None, step_s: float = 1.0
) -> list[bytes]:
    """``messages`` gateway messages of ``per_message`` records each (two quantities)."""
    total = messages * per_message
    start = time.time() - total * step_s - 60 if start is None else start
    out = []
    for m in range(messages):
        records = [
            {"ts": round(start + (m * per_message + k) * step_s, 3), "rain_mm": 0.4, "vwc": 0.3}
            for k in range(per_message)
        ]
        out.append(json.dumps({"seq": m, "records": records}).encode())
    return out
