"""Faults appear at their configured rates, and the manifest predicts ingest's verdicts."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from ingest.payload import PayloadDecoder, epoch_of
from simulators import generate, load_scenario
from simulators.fault_config import FaultEvent, FaultRates, Faults
from tests.simulators.conftest import ANCHOR

if TYPE_CHECKING:
    from registry.format import Registry


def _within(count: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    """Whether ``count`` of ``n`` is within ``sigmas`` binomial standard deviations of ``p``."""
    return abs(count - n * p) <= sigmas * math.sqrt(n * p * (1 - p)) + 1


def test_faults_appear_at_their_rates(rio: Registry) -> None:
    """Dropouts, spikes, duplicates and late messages occur at the configured rates."""
    rates = FaultRates(dropout=0.05, spike=0.01, duplicate=0.04, out_of_order=0.02)
    scenario = replace(load_scenario("rio-2010-04"), faults=Faults(rates))
    clean = generate(scenario, rio, seed=21, anchor=ANCHOR, faults=False)
    run = generate(scenario, rio, seed=21, anchor=ANCHOR)
    reports = clean.manifest.messages
    counts = run.manifest.faults
    assert _within(counts["dropout"], reports, 0.05)
    readings = clean.manifest.total_sent
    assert _within(counts["spike"], readings, 0.01)
    sent = reports - counts["dropout"]
    assert _within(counts["duplicate"], sent, 0.04)
    assert _within(counts["out_of_order"], sent, 0.02)
    assert run.manifest.messages_by_kind["duplicate"] == counts["duplicate"]


def test_manifest_predicts_what_ingest_accepts(rio: Registry) -> None:
    """Decoding every message accepts exactly the sent readings minus the listed rejections."""
    run = generate(load_scenario("summer-cells"), rio, seed=4, anchor=ANCHOR)
    decoder = PayloadDecoder(rio.network, rio.station_ids().__contains__)
    accepted: set[tuple[str, str, float]] = set()
    reasons: set[str] = set()
    for message in run.messages:
        decoded = decoder.decode(message.topic, message.payload, now=message.send_ts)
        accepted |= {(r.station_id, r.quantity, epoch_of(r.ts)) for r in decoded.readings}
        reasons |= {str(r.reason) for r in decoded.rejects}
    manifest = run.manifest
    assert len(accepted) == manifest.total_expected_stored
    per_station: dict[tuple[str, str], int] = {}
    for station, quantity, _ in accepted:
        per_station[station, quantity] = per_station.get((station, quantity), 0) + 1
    expected = {(s, q): n for s, qs in manifest.expected_stored.items() for q, n in qs.items() if n}
    assert per_station == expected
    rejected = {(r.station, r.quantity, r.ts) for r in manifest.rejections}
    assert not rejected & accepted
    assert {r.reason for r in manifest.rejections} == reasons == {"out_of_range", "ts_past"}


def test_outage_burst_repeats_the_overlap_and_batches_the_backlog(rio: Registry) -> None:
    """A gateway outage withholds its zone's reports and flushes them as batched messages."""
    outage = FaultEvent("outage", "rocinha", start_h=10, duration_h=3)
    scenario = replace(
        load_scenario("rio-2010-04"),
        duration_h=24,
        faults=Faults(FaultRates(outage_overlap=1), (outage,)),
    )
    run = generate(scenario, rio, seed=2, anchor=ANCHOR)
    backlog = [m for m in run.messages if m.kind == "backlog"]
    assert {m.gateway for m in backlog} == {"rocinha"}
    assert len(backlog) == 5  # one burst per Rocinha station
    end = ANCHOR + 13 * 3600
    assert all(end < m.send_ts < end + 61 for m in backlog)
    assert all(m.payload.count(b'"ts"') > 10 or m.topic.endswith("/senml") for m in backlog)
    resent = run.manifest.readings_resent
    assert set(resent) == {f"rocinha-0{i}" for i in range(1, 6)}
    assert all(n == 1 for quantities in resent.values() for n in quantities.values())
    assert run.manifest.total_expected_stored == run.manifest.total_sent
