"""The public side of the API: read-only, unauthenticated, answered from the snapshot.

| route | body |
| --- | --- |
| ``GET /public/zones`` | every zone's level in words, since when, data state (JSON) |
| ``GET /public/alerts.atom`` | Atom feed of the active CAP alerts |
| ``GET /public/zones/{zone}/alerts.atom`` | the same for one zone |
| ``GET /public/cap/{identifier}`` | one active alert's latest CAP 1.2 document |
| ``GET /status`` | the status page (:mod:`alerts.api.status_page`) |

No token, no webhook, no internal id but the CAP identifier. Every body is rendered once per
snapshot (:mod:`alerts.api.snapshot`) and sent with ``Cache-Control: public, max-age=<refresh>``
and a strong ``ETag``; ``If-None-Match`` with the current tag answers 304 with no body. A body
from a snapshot the database could not refresh carries ``X-Encosta-Stale: 1`` (and ``"stale":
true`` in JSON). Before the first snapshot the routes answer 503 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from alerts import wording
from alerts.api import status_page
from alerts.api.feed import ATOM_TYPE, atom_feed
from alerts.api.schemas import IDENTIFIER
from alerts.payload import CAP_TYPE, instruction

if TYPE_CHECKING:
    from collections.abc import Callable

    from alerts.api.config import ApiConfig
    from alerts.api.snapshot import PublicView, Snapshot

router = APIRouter(tags=["public"])
JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=utf-8"
_CAP_ID = r"^[A-Za-z0-9_.-]{1,200}$"


@dataclass(frozen=True, slots=True)
class Body:
    """A rendered body and its entity tag."""

    content: bytes
    media_type: str
    etag: str


@dataclass(slots=True)
class Renderings:
    """Bodies rendered from one snapshot version; dropped when the snapshot changes."""

    version: int = -1
    bodies: dict[str, Body] = field(default_factory=dict)

    def get(
        self, snapshot: Snapshot, key: str, media_type: str, render: Callable[[], str | None]
    ) -> Body | None:
        """The body of ``key`` for ``snapshot``, rendered at most once per version."""
        if snapshot.version != self.version:
            self.version = snapshot.version
            self.bodies = {}
        if key not in self.bodies:
            text = render()
            if text is None:
                return None  # not kept: unknown keys must not grow the cache
            content = text.encode()
            tag = hashlib.blake2b(content, digest_size=12).hexdigest()
            self.bodies[key] = Body(content, media_type, f'"{tag}"')
        return self.bodies[key]


def zones_json(snapshot: Snapshot) -> str:
    """The public zones document."""
    public = wording.profile(snapshot.network)
    said = wording.words(public.language)
    zones = [
        {
            "id": z.id,
            "name": z.name,
            "level": z.level,
            "level_name": said.levels[z.level],
            "since": None if z.since is None else z.since.isoformat(),
            "degraded": z.degraded,
            "data_level": z.data_level,
            "last_data_at": None if z.last_data is None else z.last_data.isoformat(),
            "instruction": instruction("risk", z.level, public.language),
            "alerts": [a.identifier for a in snapshot.alerts if a.zone_id == z.id],
        }
        for z in snapshot.zones
    ]
    return json.dumps(
        {
            "network": snapshot.network,
            "language": public.language,
            "updated_at": snapshot.built_at.isoformat(),
            "stale": snapshot.stale,
            "zones": zones,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def feed(snapshot: Snapshot, config: ApiConfig, zone_id: str | None) -> str | None:
    """The Atom feed of the network's (or one zone's) active alerts; None: no such zone."""
    base = config.public_base
    public = wording.profile(snapshot.network)
    said = wording.words(public.language)
    names = {z.id: z.name for z in snapshot.zones}
    if zone_id is not None and zone_id not in names:
        return None
    path = "/public/alerts.atom" if zone_id is None else f"/public/zones/{zone_id}/alerts.atom"
    title = f"{said.title}: {names[zone_id] if zone_id else snapshot.network}"
    return atom_feed(
        feed_id=f"{base}{path}",
        title=title,
        self_url=f"{base}{path}",
        cap_url=f"{base}/public/cap/{{identifier}}",
        author=public.sender_name,
        updated=snapshot.changed_at or datetime(2000, 1, 1, tzinfo=UTC),
        alerts=[a for a in snapshot.alerts if zone_id is None or a.zone_id == zone_id],
    )


def _view(request: Request) -> PublicView:
    view: PublicView = request.app.state.public
    return view


def answer(
    request: Request, key: str, media_type: str, render: Callable[[Snapshot], str | None]
) -> Response:
    """The cached body of ``key`` with cache headers, 304 on a matching ``If-None-Match``."""
    view = _view(request)
    snapshot = view.snapshot
    if snapshot is None:
        return Response(
            json.dumps({"detail": "the public view is not ready yet; retry later"}),
            status_code=503,
            media_type=JSON_TYPE,
            headers={"Retry-After": "5", "Cache-Control": "no-store"},
        )
    renderings: Renderings = request.app.state.renderings
    body = renderings.get(snapshot, key, media_type, lambda: render(snapshot))
    if body is None:
        return Response(
            json.dumps({"detail": f"nothing public at {request.url.path}"}),
            status_code=404,
            media_type=JSON_TYPE,
            headers={"Cache-Control": f"public, max-age={int(view.refresh_s)}"},
        )
    headers = {
        "ETag": body.etag,
        "Cache-Control": f"public, max-age={max(1, int(view.refresh_s))}",
        "Last-Modified": snapshot.built_at.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Vary": "Accept-Encoding",
    }
    if snapshot.stale:
        headers["X-Encosta-Stale"] = "1"
    tags = {t.strip() for t in request.headers.get("if-none-match", "").split(",")}
    if body.etag in tags or "*" in tags:
        return Response(status_code=304, headers=headers)
    return Response(body.content, media_type=media_type, headers=headers)


_JSON_PROBLEM = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_CACHED: dict[int | str, dict[str, Any]] = {
    304: {"description": "not modified (If-None-Match matched the ETag)"},
    503: {
        "description": "no snapshot yet (the API has not reached the database since it started)",
        "content": _JSON_PROBLEM,
    },
}
_MISSING = {"description": "nothing public by this name", "content": _JSON_PROBLEM}


def _ok(media_type: str, what: str) -> dict[int | str, dict[str, Any]]:
    schema = {"type": "object"} if media_type == JSON_TYPE else {"type": "string"}
    return {
        200: {
            "description": f"{what}, with Cache-Control and ETag",
            "content": {media_type: {"schema": schema}},
        },
        **_CACHED,
    }


@router.get("/public/zones", responses=_ok(JSON_TYPE, "the zones"), response_class=Response)
def public_zones(request: Request) -> Response:
    """Every zone's public state (level in words, since when, degraded), from the snapshot."""
    return answer(request, "zones", JSON_TYPE, zones_json)


@router.get(
    "/public/alerts.atom", responses=_ok(ATOM_TYPE, "the Atom feed"), response_class=Response
)
def public_feed(request: Request) -> Response:
    """Atom feed of every active alert, each entry linking to its CAP 1.2 document."""
    config: ApiConfig = request.app.state.context.config
    return answer(request, "feed", ATOM_TYPE, lambda s: feed(s, config, None))


@router.get(
    "/public/zones/{zone_id}/alerts.atom",
    responses={**_ok(ATOM_TYPE, "the zone's Atom feed"), 404: _MISSING},
    response_class=Response,
)
def public_zone_feed(
    zone_id: Annotated[str, Path(pattern=IDENTIFIER)], request: Request
) -> Response:
    """Atom feed of one zone's active alerts."""
    config: ApiConfig = request.app.state.context.config
    return answer(request, f"feed:{zone_id}", ATOM_TYPE, lambda s: feed(s, config, zone_id))


@router.get(
    "/public/cap/{identifier}",
    responses={**_ok(CAP_TYPE, "the CAP 1.2 document"), 404: _MISSING},
    response_class=Response,
)
def public_cap(identifier: Annotated[str, Path(pattern=_CAP_ID)], request: Request) -> Response:
    """The latest CAP 1.2 message of an active alert, by its CAP identifier."""

    def render(snapshot: Snapshot) -> str | None:
        alert = snapshot.alert(identifier)
        return None if alert is None else alert.cap

    return answer(request, f"cap:{identifier}", CAP_TYPE, render)


@router.get(
    "/status",
    responses=_ok("text/html", "the status page"),
    response_class=Response,
)
def status(request: Request) -> Response:
    """The public status page: every zone's level in words, what to do, support points."""
    config: ApiConfig = request.app.state.context.config
    return answer(request, "status", HTML_TYPE, lambda s: status_page.render(s, config.public_base))
