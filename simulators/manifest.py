"""The manifest of a run: what was sent, what ingest must reject and why, what was re-sent.

Counts are in Encosta's unit, the reading: one (station, quantity, ts, value). The reject
reasons are not guessed: every message that carries a deliberately corrupted record is run
through ingest's own :class:`ingest.payload.PayloadDecoder` at its send time, and each reading
it does not accept is listed with the reason the decoder gave.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ingest.payload import PayloadDecoder, Rejected, epoch_of
from ingest.topic import PayloadForm, ReadingsTopic

if TYPE_CHECKING:
    from simulators.faults import Faulted, FaultLog
    from simulators.gateway import Outbox

Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Rejection:
    """A reading ingest must reject, with the reason its decoder gives."""

    station: str
    quantity: str
    ts: float
    reason: str


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a run sent, counted in readings, and what must come out of ingest."""

    messages: int
    messages_by_kind: dict[str, int]
    readings_sent: dict[str, dict[str, int]]  # unique readings per station and quantity
    readings_resent: dict[str, dict[str, int]]  # extra copies: duplicates and burst overlap
    rejections: tuple[Rejection, ...]
    reject_entries: int  # rows ingest's rejects table receives (a resent message once)
    expected_stored: dict[str, dict[str, int]]
    faults: dict[str, int]
    episodes: tuple[dict[str, object], ...]

    @property
    def total_sent(self) -> int:
        """Unique readings sent."""
        return sum(sum(q.values()) for q in self.readings_sent.values())

    @property
    def total_expected_stored(self) -> int:
        """Unique readings ingest must store."""
        return sum(sum(q.values()) for q in self.expected_stored.values())


def _nested(counter: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (station, quantity), n in sorted(counter.items()):
        out.setdefault(station, {})[quantity] = n
    return out


def _record_readings(names: tuple[str, ...], row: Array) -> list[str]:
    return [q for q, v in zip(names, row.tolist(), strict=True) if v == v]  # noqa: PLR0124  NaN


def build_manifest(  # noqa: C901, PLR0913, PLR0917  the pieces a manifest is assembled from
    outbox: Outbox,
    faulted: Faulted,
    names: tuple[str, ...],
    row_station: npt.NDArray[np.int64],
    station_ids: tuple[str, ...],
    decoder: PayloadDecoder,
    log: FaultLog,
) -> Manifest:
    """Count what ``outbox`` sends and predict ingest's rejects with ``decoder``."""
    kept = np.flatnonzero(faulted.kept)
    present = ~np.isnan(faulted.values[kept])
    sent: Counter[tuple[str, str]] = Counter()
    for q, name in enumerate(names):
        stations = row_station[kept][present[:, q]]
        for s, n in zip(*np.unique(stations, return_counts=True), strict=True):
            sent[station_ids[int(s)], name] += int(n)
    resent: Counter[tuple[str, str]] = Counter()
    for r in outbox.resent_rows:
        for name in _record_readings(names, faulted.values[r]):
            resent[station_ids[int(row_station[r])], name] += 1
    rejections: dict[tuple[str, str, float], Rejection] = {}
    entries = 0
    corrupt = faulted.corrupt
    seen: set[bytes] = set()
    for message, rows in zip(outbox.messages, outbox.rows, strict=True):
        # Ingest records a redelivered message's rejects once (unique on the message hash).
        if not corrupt[rows].any() or message.payload in seen:
            continue
        seen.add(message.payload)
        decoded = decoder.decode(message.topic, message.payload, now=message.send_ts)
        entries += len(decoded.rejects)
        accepted = {(r.quantity, epoch_of(r.ts)) for r in decoded.readings}
        senml = ReadingsTopic.parse(message.topic).form is PayloadForm.SENML
        reasons = _reasons(decoded.rejects, rows, faulted, names, senml=senml)
        for position, r in enumerate(rows):
            ts = float(faulted.ts[r])
            for quantity in _record_readings(names, faulted.values[r]):
                if (quantity, ts) not in accepted:
                    reason = reasons.get((position, quantity)) or reasons.get((position, None), "")
                    rejections[message.station, quantity, ts] = Rejection(
                        message.station, quantity, ts, reason
                    )
    stored = Counter(sent)
    for rejection in rejections.values():
        stored[rejection.station, rejection.quantity] -= 1
    by_kind = Counter(m.kind for m in outbox.messages)
    return Manifest(
        messages=len(outbox.messages),
        messages_by_kind=dict(sorted(by_kind.items())),
        readings_sent=_nested(sent),
        readings_resent=_nested(resent),
        rejections=tuple(sorted(rejections.values(), key=lambda x: (x.station, x.ts, x.quantity))),
        reject_entries=entries,
        expected_stored=_nested(stored),
        faults=dict(sorted(log.counts.items())),
        episodes=tuple(log.episodes),
    )


def _reasons(
    rejects: list[Rejected],
    rows: npt.NDArray[np.int64],
    faulted: Faulted,
    names: tuple[str, ...],
    *,
    senml: bool,
) -> dict[tuple[int, str | None], str]:
    """Map each decoder reject to (record position, quantity or None for the whole record)."""
    entry_of: list[tuple[int, str | None]] = []
    if senml:
        for position, r in enumerate(rows):
            entry_of.extend((position, q) for q in _record_readings(names, faulted.values[r]))
    out: dict[tuple[int, str | None], str] = {}
    for reject in rejects:
        index, reason = reject.record_index, str(reject.reason)
        if index is None:
            for position in range(len(rows)):
                out[position, None] = reason
        elif senml:
            out[entry_of[index]] = reason
        else:
            out[index, None] = reason
    return out
