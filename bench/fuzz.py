"""Fuzz the ingest decoder for a bounded time; print what ran and how fast.

The strategies and the hostile corpus are the unit tests' (``tests/ingest/hostile.py``); here
they run for ``--seconds`` instead of a few hundred examples. The property, per example: decoding
never raises; each message becomes readings or rejects with a :class:`Reason`; what a reject
would store (raw prefix, detail) is bounded. A failure prints hypothesis' minimal example and
exits 1. Needs no services: ``make fuzz`` or ``.venv/bin/python -m bench.fuzz --seconds 60``.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.metrics import IngestMetrics
from ingest.payload import Decoded, Limits, PayloadDecoder
from ingest.reasons import Reason
from ingest.writer import DETAIL_CHARS, BatchWriter, Message
from tests.ingest.hostile import corpus, mutated, valid_native, valid_senml

NOW = 1_795_000_000.0
STATION = "st-1"
TOPICS = ("encosta/rio/st-1/readings", "encosta/rio/st-1/readings/senml")
RAW_LIMIT = 4096
CHUNK = 100  # examples per hypothesis run; runs repeat until the time is up (overshoot: one run)


class Tally:
    """Examples run and reasons seen, per strategy."""

    def __init__(self) -> None:
        self.examples: collections.Counter[str] = collections.Counter()
        self.reasons: collections.Counter[str] = collections.Counter()
        self.readings = 0
        self.writer = BatchWriter(
            "postgresql://unused", IngestMetrics(), reject_raw_bytes=RAW_LIMIT
        )
        self.decoder = PayloadDecoder("rio", lambda s: s == STATION, Limits())

    def check(self, name: str, topic: str, payload: bytes) -> None:
        """Decode ``payload`` and assert the property; count what came out."""
        out: Decoded = self.decoder.decode(topic, payload, NOW)
        message = Message(topic, payload, out.readings, out.rejects, STATION)
        for reject in out.rejects:
            assert isinstance(reject.reason, Reason), reject
            row = self.writer.reject_row(message, reject, message.digest)
            assert isinstance(row[5], bytes)
            assert len(row[5]) <= RAW_LIMIT
            assert isinstance(row[3], str)
            assert len(row[3]) <= DETAIL_CHARS
            self.reasons[reject.reason.value] += 1
        for reading in out.readings:
            assert reading.station_id == STATION
            assert reading.value == reading.value
        self.readings += len(out.readings)
        self.examples[name] += 1


def _runner(tally: Tally, name: str, strategy: st.SearchStrategy[bytes]) -> Callable[[], None]:
    @settings(
        max_examples=CHUNK,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(payload=strategy, senml=st.booleans())
    def run(payload: bytes, senml: bool) -> None:  # noqa: FBT001  hypothesis passes it by name
        tally.check(name, TOPICS[senml], payload)

    return run


def main() -> int:
    """Run every strategy in turn until ``--seconds`` pass; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="total fuzzing time")
    args = parser.parse_args()
    tally = Tally()
    started = time.perf_counter()
    for case in corpus(NOW, STATION):
        tally.check("corpus", TOPICS[case.senml], case.payload)
    strategies = {
        "valid_native": valid_native(NOW),
        "valid_senml": valid_senml(NOW, STATION),
        "mutated_native": mutated(valid_native(NOW)),
        "mutated_senml": mutated(valid_senml(NOW, STATION)),
        "random_bytes": st.binary(max_size=2048),
    }
    runners = [_runner(tally, name, s) for name, s in strategies.items()]
    deadline = started + args.seconds
    rounds = 0
    try:
        while time.perf_counter() < deadline:
            for run in runners:
                run()
                if time.perf_counter() >= deadline:
                    break
            rounds += 1
    except AssertionError:
        print("FAILED: the decoder broke its property on the example above", file=sys.stderr)
        raise
    elapsed = time.perf_counter() - started
    total = sum(tally.examples.values())
    print(f"# bench/fuzz.py  seconds={args.seconds:g} rounds={rounds} chunk={CHUNK}")
    print("| strategy | examples |")
    print("| --- | --- |")
    for name, count in tally.examples.items():
        print(f"| {name} | {count:,} |")
    print(f"| total | {total:,} in {elapsed:.1f} s = {total / elapsed:,.0f} examples/s |")
    print(f"readings decoded: {tally.readings:,}; rejects by reason: {dict(tally.reasons)}")
    print("property held: no exception, every reject with a Reason, raw <= 4096 B, detail bounded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
