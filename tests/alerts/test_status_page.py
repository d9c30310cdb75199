"""The status page: rendered by the API, read in a real headless Chromium, within its budget."""

from __future__ import annotations

import asyncio
import re
import shutil
from dataclasses import replace
from importlib import resources
from typing import TYPE_CHECKING

import pytest
from lxml import html

from alerts.api.status_page import PAGE_BUDGET_BYTES
from tests.alerts.test_api import api_config, served
from tests.alerts.test_public import fresh_readings, raise_risk, until
from tests.tcp_proxy import TcpProxy

if TYPE_CHECKING:
    from pathlib import Path

    from lxml.html import HtmlElement

    from tests.conftest import Database

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TEMPLATE = resources.files("alerts.api").joinpath("templates/status.html").read_text("utf-8")


def classes(element: HtmlElement) -> set[str]:
    """The CSS classes of ``element``."""
    return set((element.get("class") or "").split())


def text(element: object) -> str:
    """All the text under ``element``."""
    assert isinstance(element, html.HtmlElement)
    return str(element.text_content())


def badges(root: HtmlElement) -> list[HtmlElement]:
    """The level badges under ``root``."""
    return [
        e
        for e in root.iterfind(".//span")
        if isinstance(e, html.HtmlElement) and "badge" in classes(e)
    ]


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _expand(colour: str) -> str:
    return colour if len(colour) == 7 else "#" + "".join(c * 2 for c in colour[1:])


def test_every_level_colour_meets_wcag_aa() -> None:
    """Each badge's text and background have a contrast of at least 4.5:1 (WCAG 2 AA)."""
    rules = re.findall(r"\.(l\d|deg|stale)\{background:(#[0-9a-f]+);color:(#[0-9a-f]+)", TEMPLATE)
    assert {r[0] for r in rules} >= {"l0", "l1", "l2", "l3", "deg"}
    for name, background, text in rules:
        assert contrast(_expand(background), _expand(text)) >= 4.5, name


async def chromium(*args: str) -> tuple[str, str]:
    """Run headless Chromium with ``args``; (stdout, stderr)."""
    assert CHROMIUM, "chromium is not installed: run scripts/install-system.sh"
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # tests may run as root
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--enable-logging=stderr",
        "--v=0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(90):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode(), err.decode(errors="replace")


@pytest.fixture
async def rio(database: Database) -> Database:
    """The test database renamed to network 'rio' (pt-BR profile), one zone at crisis."""
    await database.fetchval("UPDATE zones SET network = 'rio'")
    await database.fetchval("UPDATE stations SET network = 'rio'")
    rio = replace(database, network="rio")
    await fresh_readings(rio, "rocinha")
    await raise_risk(rio, "rocinha", 3)
    await fresh_readings(rio, "santa-marta")
    return rio


async def test_page_in_words_within_budget_and_never_green_on_missing_data(rio: Database) -> None:
    """pt-BR, levels in words, degraded zones not green, support points, no script, ≤ budget."""
    async with served(replace(api_config(rio), public_refresh_s=0.2)) as client:
        page = await until(client, "/status", lambda r: r.status_code == 200)
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert len(page.content) <= PAGE_BUDGET_BYTES
    assert "etag" in page.headers
    doc = html.fromstring(page.content)
    assert doc.get("lang") == "pt-BR"
    assert doc.find(".//script") is None
    assert doc.find(".//img") is None
    sections = {
        s.get("id"): s for s in doc.iterfind(".//section") if isinstance(s, html.HtmlElement)
    }
    assert len(sections) == 8
    badge = {k: badges(s)[0] for k, s in sections.items()}
    assert badge["rocinha"].text_content() == "crise"
    assert "l3" in classes(badge["rocinha"])
    assert badge["santa-marta"].text_content() == "normal"  # reporting, no alert
    assert "l0" in classes(badge["santa-marta"])
    # Vidigal's stations never reported: degraded in words, not the normal colour.
    assert badge["vidigal"].text_content() == "monitoramento degradado"
    assert "l0" not in classes(badge["vidigal"])
    assert "Saia agora da área de risco" in text(sections["rocinha"])
    assert "Ponto de apoio (exemplo)" in text(sections["rocinha"])
    assert "exemplo, a confirmar" in text(sections["rocinha"])
    assert len(list(sections["rocinha"].iterfind(".//time"))) == 2  # since when; last reading


async def test_page_renders_in_headless_chromium(rio: Database, tmp_path: Path) -> None:
    """Chromium renders the page (DOM and a phone-sized screenshot) with no console error."""
    async with served(replace(api_config(rio), public_refresh_s=0.2)) as client:
        await until(client, "/status", lambda r: r.status_code == 200)
        url = str(client.base_url.join("/status"))
        dom, err = await chromium("--dump-dom", url)
        shot = tmp_path / "status-phone.png"
        _, shot_err = await chromium(
            f"--screenshot={shot}", "--window-size=390,1600", "--hide-scrollbars", url
        )
    assert dom.strip(), err[-3000:]
    rendered = html.fromstring(dom)
    names = [text(h) for h in rendered.iterfind(".//section/h2")]
    assert "Rocinha" in names
    assert "Complexo do Alemão" in names
    assert shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for log in (err, shot_err):
        console = [line for line in log.splitlines() if "CONSOLE" in line]
        assert console == [], console


async def test_stale_page_says_so(rio: Database) -> None:
    """A page from a snapshot the database could not refresh says it may be out of date."""
    port = rio.stack.pg_port
    async with TcpProxy("127.0.0.1", port) as proxy:
        dsn = rio.dsn_for("api").replace(f":{port}/", f":{proxy.port}/")
        async with served(replace(api_config(rio, dsn=dsn), public_refresh_s=0.1)) as client:
            await until(client, "/status", lambda r: r.status_code == 200)
            await proxy.cut()
            page = await until(client, "/status", lambda r: "x-encosta-stale" in r.headers)
    doc = html.fromstring(page.content)
    assert doc.find(".//p[@role='alert']") is not None
    found = badges(doc)
    assert len(found) == 8
    assert all("l0" not in classes(b) for b in found)
