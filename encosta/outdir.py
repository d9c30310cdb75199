"""An output directory the command can write, checked before the work that fills it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from encosta.errors import EncostaError

if TYPE_CHECKING:
    from pathlib import Path


def writable_dir(path: Path, option: str = "--report") -> Path:
    """Create ``path`` (and its parents) and prove it writable, or say so in one line.

    Called before a long run (a backtest, a demo), so a typo costs a second, not the run.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".encosta-write-test"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise EncostaError(f"{option} {path}: cannot write there ({exc.strerror or exc})") from exc
    return path
