"""Decoder cost per message on the hot path: one-reading and 100-record native messages.

Prints microseconds per ``PayloadDecoder.decode`` call (best of 5 runs), and the share of the
byte pre-scan (``ingest/prescan.py``) where the package has one. Needs no services:
``.venv/bin/python -m bench.decode``. To compare with another revision, run the same module
with that revision's ``ingest`` package first on ``PYTHONPATH`` (docs/reliability.md, "Ingest").
"""

from __future__ import annotations

import importlib
import json
import timeit

from ingest.payload import PayloadDecoder

NOW = 1_795_000_000.0
TOPIC = "encosta/rio/rocinha-01/readings"


def messages() -> dict[str, bytes]:
    """The two shapes of bench/ingest.py: one reading, and 100 records of rain and vwc."""
    one = b'{"records":[{"ts":%.3f,"rain_mm":0.2}]}' % (NOW - 60)
    records = [
        {"ts": round(NOW - 600 + k * 0.01, 3), "rain_mm": 0.4, "vwc": 0.3} for k in range(100)
    ]
    return {"1 reading": one, "100 records": json.dumps({"records": records}).encode()}


def best_us(call: object, number: int) -> float:
    """Best of five timings of ``call`` in microseconds per call."""
    return min(timeit.repeat(call, number=number, repeat=5)) / number * 1e6  # type: ignore[arg-type]


def main() -> None:
    """Print the table."""
    decoder = PayloadDecoder("rio", lambda _station: True)
    package = importlib.import_module("ingest")
    print(f"# bench/decode.py  ingest from {package.__path__[0]}")
    # None in a revision before the pre-scan (whose decoder does not call it).
    prescan = getattr(importlib.import_module("ingest.payload"), "prescan", None)
    print("| message | decode us/message | of which prescan us |")
    print("| --- | --- | --- |")
    for name, payload in messages().items():
        number = 20000 if len(payload) < 200 else 500
        decode = best_us(lambda p=payload: decoder.decode(TOPIC, p, NOW), number)
        if prescan is None:
            share = "-"
        else:
            check = prescan.check
            share = f"{best_us(lambda p=payload, c=check: c(p, 16, 1000), number):.2f}"
        print(f"| {name} ({len(payload)} B) | {decode:.2f} | {share} |")


if __name__ == "__main__":
    main()
