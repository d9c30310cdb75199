"""Messages as zone gateways send them: one per report, bursts after outages, duplicates.

Each station's logger hands reports to its zone gateway, which publishes them (native JSON
with a per-station ``seq``, or SenML for SenML firmware). Message-level faults live here:

* gateway outage: reports due while the uplink is down are stored and forwarded as batched
  messages when it returns; the burst repeats the last ``outage_overlap`` reports sent before
  the outage (their PUBACKs were lost with the link), so the backlog overlaps what was stored;
* duplicate: the same bytes sent again a few seconds later (a QoS 1 resend);
* out of order: a message delivered one to three report intervals late.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ingest.payload import OutRecord, encode_native, encode_senml
from ingest.topic import PayloadForm, ReadingsTopic

if TYPE_CHECKING:
    from simulators.fault_config import FaultRates
    from simulators.faults import Faulted, FaultLog

Array = npt.NDArray[np.float64]
MAX_BATCH = 500  # records per backlog message, well under ingest's 1000


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT message: when the gateway sends it (simulated epoch s), where, and what."""

    send_ts: float
    topic: str
    payload: bytes
    station: str
    gateway: str
    kind: str  # "report", "backlog" or "duplicate"


@dataclass(frozen=True, slots=True)
class Station:
    """What the gateway layer needs to know of a station."""

    id: str
    zone: str
    senml: bool


@dataclass(slots=True)
class Outbox:
    """Messages of a run and which report rows each carries (for the manifest)."""

    messages: list[Message] = field(default_factory=list)
    rows: list[npt.NDArray[np.int64]] = field(default_factory=list)
    resent_rows: list[int] = field(default_factory=list)  # one entry per re-sent record


def _merge(windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for a, b in sorted(windows):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


# send time, station index, rows (into the kept rows), kind, leading rows that are re-sends
Draft = tuple[float, int, npt.NDArray[np.int64], str, int]


class GatewayPlanner:
    """Turns faulted report rows into the messages the gateways send."""

    def __init__(  # noqa: PLR0913, PLR0917  the planner's collaborators
        self,
        network: str,
        stations: tuple[Station, ...],
        names: tuple[str, ...],
        rates: FaultRates,
        rng: np.random.Generator,
        log: FaultLog,
    ) -> None:
        self.stations = stations
        self.names = names
        self.rates = rates
        self.rng = rng
        self.log = log
        self.topics = [
            str(ReadingsTopic(network, s.id, PayloadForm.SENML if s.senml else PayloadForm.NATIVE))
            for s in stations
        ]

    def _drafts(
        self,
        row_station: npt.NDArray[np.int64],
        send: Array,
        outages: dict[str, list[tuple[float, float]]],
    ) -> list[Draft]:
        drafts: list[Draft] = []
        held = np.zeros(send.size, dtype=bool)
        zone_of = np.array([s.zone for s in self.stations])[row_station]
        for zone, windows in outages.items():
            for a, b in _merge(windows):
                inside = (zone_of == zone) & (send >= a) & (send < b) & ~held
                held |= inside
                self.log.episodes.append(
                    {"kind": "outage", "zone": zone, "start_ts": a, "end_ts": b}
                )
                for s in np.unique(row_station[inside]):
                    mine = np.flatnonzero(inside & (row_station == s))
                    before = np.flatnonzero((row_station == s) & (send < a) & ~held)
                    keep = self.rates.outage_overlap
                    overlap = before[max(0, before.size - keep) :] if keep else before[:0]
                    self.log.add("outage_held", mine.size)
                    self.log.add("outage_overlap", overlap.size)
                    batch = np.concatenate([overlap, mine])
                    flush = b + float(self.rng.uniform(1.0, 60.0))
                    for i in range(0, batch.size, MAX_BATCH):
                        lead = max(0, min(MAX_BATCH, overlap.size - i))
                        drafts.append(
                            (flush + i * 1e-3, int(s), batch[i : i + MAX_BATCH], "backlog", lead)
                        )
        drafts.extend(
            (float(send[r]), int(row_station[r]), np.array([r]), "report", 0)
            for r in np.flatnonzero(~held)
        )
        drafts.sort(key=lambda d: d[0])
        return drafts

    def plan(  # noqa: PLR0913, PLR0917  the physical inputs, named at every call
        self,
        faulted: Faulted,
        row_station: npt.NDArray[np.int64],
        true_ts: Array,
        latency_s: float,
        outages: dict[str, list[tuple[float, float]]],
        interval_s: float,
    ) -> Outbox:
        """Build every message; rows are indices into the faulted table."""
        kept = np.flatnonzero(faulted.kept)
        send = true_ts[kept] + self.rng.uniform(0.2, max(latency_s, 0.2), kept.size)
        drafts = self._drafts(row_station[kept], send, outages)
        seq = [0] * len(self.stations)
        out = Outbox()
        values = faulted.values
        has_gaps = bool(np.isnan(values).any())
        dup = self.rng.random(len(drafts)) < self.rates.duplicate
        late = self.rng.random(len(drafts)) < self.rates.out_of_order
        delay = self.rng.uniform(1.0, 3.0, len(drafts)) * interval_s
        resend = self.rng.uniform(0.5, 10.0, len(drafts))
        for i, (planned, s, local_rows, kind, overlap) in enumerate(drafts):
            when = planned
            rows = kept[local_rows]
            station = self.stations[s]
            records = [
                OutRecord(float(faulted.ts[r]), self._values(values[r], has_gaps=has_gaps))
                for r in rows
            ]
            if station.senml:
                payload = encode_senml(station.id, records)
            else:
                payload = encode_native(records, seq=seq[s])
                seq[s] += 1
            if kind == "report" and late[i]:
                when += float(delay[i])
                self.log.add("out_of_order")
            out.resent_rows.extend(int(r) for r in rows[:overlap])
            out.messages.append(
                Message(when, self.topics[s], payload, station.id, station.zone, kind)
            )
            out.rows.append(rows)
            if dup[i]:
                self.log.add("duplicate")
                out.messages.append(
                    Message(
                        when + float(resend[i]),
                        self.topics[s],
                        payload,
                        station.id,
                        station.zone,
                        "duplicate",
                    )
                )
                out.rows.append(rows)
                out.resent_rows.extend(int(r) for r in rows)
        return out

    def _values(self, row: Array, *, has_gaps: bool) -> dict[str, float]:
        items = zip(self.names, row.tolist(), strict=True)
        return {k: v for k, v in items if v == v} if has_gaps else dict(items)  # noqa: PLR0124  NaN test
