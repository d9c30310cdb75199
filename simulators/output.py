"""Files a run writes: messages as JSON lines, the manifest and the ground truth as JSON.

``messages.jsonl`` (and ``--to-file``) holds one message per line,
``{"t": <send time, epoch s>, "topic": "...", "payload": "<the payload bytes as UTF-8>"}``,
in send order: what an offline backtest or the benchmark generator replays. Payloads are
JSON text, so they are stored as strings, byte for byte.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

import msgspec

from simulators.gateway import Message

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

    from simulators.run import Run

_encode = msgspec.json.Encoder().encode


class _Line(msgspec.Struct, frozen=True):
    t: float
    topic: str
    payload: str
    station: str = ""
    gateway: str = ""
    kind: str = "report"


_decode_line = msgspec.json.Decoder(_Line).decode


def write_messages(path: Path, messages: Iterable[Message]) -> int:
    """Write messages as JSON lines; return how many were written."""
    count = 0
    with path.open("wb") as out:
        for m in messages:
            line = _Line(m.send_ts, m.topic, m.payload.decode(), m.station, m.gateway, m.kind)
            out.write(_encode(line) + b"\n")
            count += 1
    return count


def read_messages(path: Path) -> Iterator[Message]:
    """Read messages written by :func:`write_messages`."""
    with path.open("rb") as source:
        for raw in source:
            if raw.strip():
                line = _decode_line(raw)
                yield Message(
                    line.t, line.topic, line.payload.encode(), line.station, line.gateway, line.kind
                )


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def write_run(directory: Path, run: Run, delivered: bytearray | None = None) -> None:
    """Write the run's truth, manifest, messages (what was sent) and community reports.

    The files: ``ground_truth.json``, ``manifest.json``, ``messages.jsonl`` and
    ``community_reports.json`` (the simulated reports with their review).

    ``delivered`` (from a publication) limits ``messages.jsonl`` to acknowledged messages and
    is summarised in the manifest, so an interrupted replay says what really went out.
    """
    directory.mkdir(parents=True, exist_ok=True)
    header = {
        "scenario": run.scenario.name,
        "scenario_file": run.scenario.path,
        "network": run.network,
        "seed": run.seed,
        "start_ts": run.start_ts,
        "end_ts": run.end_ts,
    }
    truth = {**header, **dict(_plain(run.truth))}  # type: ignore[call-overload]
    (directory / "ground_truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False))
    manifest = {**header, **dict(_plain(run.manifest))}  # type: ignore[call-overload]
    if delivered is not None:
        manifest["messages_delivered"] = sum(delivered)
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    said = {**header, "reports": _plain(run.reports)}
    (directory / "community_reports.json").write_text(json.dumps(said, indent=1))
    sent = (
        run.messages
        if delivered is None
        else [m for m, ok in zip(run.messages, delivered, strict=True) if ok]
    )
    write_messages(directory / "messages.jsonl", sent)
