"""``GET /status``: the page a resident opens on any phone, rendered on the server.

One HTML document (Jinja2, autoescaped; no JavaScript, no images, no web fonts, CSS inline)
from the public snapshot: each zone's level in words and in colour, since when, what to do (the
CAP instruction), its support points from the registry (table ``zone_support_points``), when
its sensors last reported, and "monitoramento degradado" (monitoring degraded) when its data is
missing or the snapshot could not be refreshed. A degraded zone is never drawn in the normal
colour. Budget: :data:`PAGE_BUDGET_BYTES` (30 KB) for Rio's page, all zones on it
(``tests/alerts/test_status_page.py`` checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import jinja2

from alerts import wording
from alerts.payload import instruction

if TYPE_CHECKING:
    from datetime import datetime

    from alerts.api.snapshot import PublicZone, Snapshot
    from registry.format import SupportPoint

PAGE_BUDGET_BYTES = 30 * 1024
_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("alerts.api", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class _ZoneView:
    id: str
    name: str
    css: str
    badge: str
    since: str | None
    since_iso: str | None
    degraded: bool
    degraded_text: str
    instruction: str
    last_data: str | None
    last_data_iso: str | None
    support_points: tuple[SupportPoint, ...]


def _zone(zone: PublicZone, profile: wording.Profile, tz: ZoneInfo) -> _ZoneView:
    said = wording.words(profile.language)

    def when(at: datetime | None) -> str | None:
        return None if at is None else at.astimezone(tz).strftime(said.date_format)

    level = said.levels[zone.level]
    if zone.degraded:  # never the normal colour on missing data
        css = "deg" if zone.level == 0 else f"l{zone.level}"
        badge = said.degraded if zone.level == 0 else f"{level} — {said.degraded}"
        text = instruction("data", zone.level, profile.language)
        todo = text if zone.level == 0 else instruction("risk", zone.level, profile.language)
    else:
        css, badge, todo = (
            f"l{zone.level}",
            level,
            instruction("risk", zone.level, profile.language),
        )
    return _ZoneView(
        zone.id,
        zone.name,
        css,
        badge,
        when(zone.since),
        None if zone.since is None else zone.since.isoformat(),
        zone.degraded,
        said.degraded_detail,
        todo,
        when(zone.last_data),
        None if zone.last_data is None else zone.last_data.isoformat(),
        zone.support_points,
    )


def render(snapshot: Snapshot, base: str) -> str:
    """The status page of ``snapshot``."""
    profile = wording.profile(snapshot.network)
    said = wording.words(profile.language)
    tz = ZoneInfo(profile.timezone)
    return _ENV.get_template("status.html").render(
        lang=profile.language,
        title=said.title,
        feed=f"{base}/public/alerts.atom",
        zones_json=f"{base}/public/zones",
        updated_label=said.updated,
        built=snapshot.built_at.astimezone(tz).strftime(said.date_format),
        built_iso=snapshot.built_at.isoformat(),
        stale=snapshot.stale,
        stale_text=said.stale,
        since_label=said.since,
        degraded_label=said.degraded,
        last_data_label=said.last_data,
        no_data=said.no_data,
        shelters_label=said.shelters,
        example_label=said.example,
        footer=said.footer,
        zones=[_zone(z, profile, tz) for z in snapshot.zones],
    )
