"""Dependencies point one way (STYLE.md): checked on the import statements with ``ast``."""

from __future__ import annotations

import ast
import concurrent.futures
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("encosta", "ingest", "models", "alerts", "simulators", "runtime", "registry")

# What each package may import from the others (module prefixes). encosta wires everything;
# runtime is the floor every service stands on (backoff, settings, HTTP probes); registry (the
# station registry file) is a floor of its own that ingest, alerts, the simulator and encosta read.
ALLOWED: dict[str, tuple[str, ...]] = {
    "models": (),
    "runtime": (),
    "registry": (),
    "ingest": ("runtime", "registry"),
    "simulators": (
        "ingest.topic",
        "ingest.payload",
        "ingest.quantity",
        "registry",
        "ingest.errors",
        "ingest.reasons",
        "ingest.broker",  # how a client logs in: part of the wire contract
        "ingest.accounts",  # which account a gateway or station publishes as
        "runtime",
    ),
    "alerts": ("models", "runtime", "registry"),
}


def _parse(path: Path) -> ast.Module:
    """``ast.parse`` in a thread of its own.

    CPython 3.11's AST constructor checks the thread's recursion depth before and after; after
    hypothesis has raised and restored the recursion limit in this thread (the fuzz tests), that
    check can fail with ``SystemError: AST constructor recursion depth mismatch``. A new thread
    starts from a clean depth.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(ast.parse, path.read_text(encoding="utf-8"), str(path)).result()


def imports(package: str) -> set[tuple[str, str]]:
    """(file, imported module) for every import of a project package inside ``package``."""
    found = set()
    for path in (REPO / package).rglob("*.py"):
        tree = _parse(path)
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in PACKAGES and name.split(".")[0] != package:
                    found.add((str(path.relative_to(REPO)), name))
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_one_way(package: str) -> None:
    """A package imports only what the layering allows (models is a leaf)."""
    allowed = ALLOWED[package]
    wrong = sorted(
        (path, name)
        for path, name in imports(package)
        if not any(name == a or name.startswith(a + ".") for a in allowed)
    )
    assert wrong == []
