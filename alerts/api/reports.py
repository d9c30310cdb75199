"""Community reports over HTTP: residents post without a token, operators review with one.

| route | who | what |
| --- | --- | --- |
| ``POST /public/reports`` | anyone (rate-limited), or a gateway with the token | a report |
| ``GET /reports`` | token | reports, newest first (filter by ``status``, ``zone``) |
| ``GET /reports/{id}/photo`` | token | the photo, with its checked content type |
| ``POST /reports/{id}/confirm`` / ``dismiss`` | token | the operator's review |

Limits: the body is at most the photo limit in base64 plus 16 KiB (checked before it is read, by
:class:`alerts.api.guard.RequestGuard`); the photo, base64 in the JSON body, at most
``ENCOSTA_REPORTS_PHOTO_MAX_BYTES`` decoded and a JPEG, PNG or WebP by its first bytes as well
as by its declared type; ``ENCOSTA_REPORTS_PER_HOUR`` reports per client address per hour,
shared by every API process through the database (:mod:`alerts.api.rate_limit`: a keyed hash of
the address is stored, never the address); while the database is down, 503.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from alerts import reports
from alerts.api.auth import UNAUTHORIZED, Writer, refusal
from alerts.api.context import DB_RESPONSES, Context
from alerts.api.schemas import IDENTIFIER, MAX_ID, Problem
from alerts.errors import AlertsError
from models.reports import Category

if TYPE_CHECKING:
    from alerts.api.rate_limit import ReportRateLimit

router = APIRouter(tags=["reports"], responses=DB_RESPONSES)
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL
PUBLIC_PATH = "/public/reports"
_MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
}


class Photo(BaseModel):
    """A photo of what is reported, base64-encoded."""

    content_type: Literal["image/jpeg", "image/png", "image/webp"]
    data_base64: str = Field(min_length=4, pattern=NO_NUL)


class ReportIn(BaseModel):
    """A report of a sign of instability."""

    zone: str = Field(pattern=IDENTIFIER)
    category: Category = Field(
        description="crack (wall or ground), leaning (pole, tree, wall), spring (new water "
        "seeping), slide (small slide), drain (blocked), other"
    )
    text: str = Field("", max_length=1000, pattern=NO_NUL, description="what was seen, where")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    contact: str | None = Field(
        None,
        max_length=100,
        pattern=NO_NUL,
        description="optional phone to call back; purged after retention",
    )
    source: Literal["resident", "agent", "gateway"] = Field(
        "resident", description="gateway needs the bearer token"
    )
    photo: Photo | None = None


class ReportCreated(BaseModel):
    """The stored report's id."""

    id: int


class ReportOut(BaseModel):
    """A report as operators see it."""

    id: int
    zone: str
    category: Category
    source: str
    lat: float | None
    lon: float | None
    text: str
    contact: str | None
    has_photo: bool
    status: Literal["new", "confirmed", "dismissed"]
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None
    created_at: datetime
    purged_at: datetime | None


class Review(BaseModel):
    """An operator's decision on a report."""

    by: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    note: str | None = Field(None, max_length=1000, pattern=NO_NUL)


def _photo(photo: Photo | None, limit: int) -> tuple[bytes | None, str | None]:
    if photo is None:
        return None, None
    if len(photo.data_base64) > (limit * 4) // 3 + 8:
        raise HTTPException(413, f"the photo is larger than {limit} bytes")
    try:
        data = base64.b64decode(photo.data_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise HTTPException(422, "photo.data_base64 is not base64") from exc
    if len(data) > limit:
        raise HTTPException(413, f"the photo is larger than {limit} bytes")
    if not data.startswith(_MAGIC[photo.content_type]) or (
        photo.content_type == "image/webp" and data[8:12] != b"WEBP"
    ):
        raise HTTPException(415, f"the photo is not a {photo.content_type}")
    return data, photo.content_type


@router.post(
    PUBLIC_PATH,
    status_code=201,
    responses={
        401: {"model": Problem, "description": "source gateway without the bearer token"},
        404: {"model": Problem, "description": "no such zone in the network"},
        413: {"model": Problem, "description": "body or photo too large"},
        415: {"model": Problem, "description": "the photo is not what its content type says"},
        429: {
            "model": Problem,
            "description": "too many reports from this address",
            "headers": {"Retry-After": {"schema": {"type": "string"}}},
        },
    },
)
async def post_report(body: ReportIn, request: Request, context: Context) -> ReportCreated:
    """Report a sign of instability (no token needed; a gateway sends the token)."""
    config = context.config
    trusted = refusal(config.token, request.headers.get("authorization")) is None
    if body.source == "gateway" and not trusted:
        raise HTTPException(401, "source gateway needs Authorization: Bearer <ENCOSTA_API_TOKEN>")
    if not trusted:
        limit: ReportRateLimit = request.app.state.report_limit
        wait = await limit.allow(request.client.host if request.client else "unknown")
        if wait is not None:
            raise HTTPException(
                429,
                f"at most {limit.per_window} reports an hour from one address",
                headers={"Retry-After": str(int(wait) + 1)},
            )
    photo, photo_type = _photo(body.photo, config.reports_photo_max_bytes)
    report = reports.Report(
        body.zone,
        body.category,
        body.source,
        body.text,
        body.lat,
        body.lon,
        body.contact,
        photo,
        photo_type,
    )
    try:
        async with context.pool.acquire() as connection:
            report_id = await reports.submit(connection, config.network, report)
    except AlertsError as exc:
        raise HTTPException(404, str(exc)) from None
    return ReportCreated(id=report_id)


def _out(row: dict[str, Any]) -> ReportOut:
    return ReportOut(
        id=row["id"],
        zone=row["zone_id"],
        category=Category(row["category"]),
        source=row["source"],
        lat=row["lat"],
        lon=row["lon"],
        text=row["description"],
        contact=row["contact"],
        has_photo=row["has_photo"],
        status=row["status"],
        reviewed_by=row["reviewed_by"],
        reviewed_at=row["reviewed_at"],
        review_note=row["review_note"],
        created_at=row["created_at"],
        purged_at=row["purged_at"],
    )


@router.get("/reports", dependencies=[Writer], responses=UNAUTHORIZED)
async def list_reports(
    context: Context,
    status: Annotated[Literal["new", "confirmed", "dismissed"] | None, Query()] = None,
    zone: Annotated[str | None, Query(pattern=IDENTIFIER)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ReportOut]:
    """Community reports, newest first (they hold personal data: token required)."""
    async with context.pool.acquire() as connection:
        rows = await reports.list_reports(
            connection, context.config.network, status=status, zone_id=zone, limit=limit
        )
    return [_out(r) for r in rows]


ReportId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get(
    "/reports/{report_id}/photo",
    dependencies=[Writer],
    responses={
        **UNAUTHORIZED,
        200: {
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in _MAGIC},
            "description": "the photo",
        },
        404: {"model": Problem, "description": "no such report or no photo"},
    },
    response_class=Response,
)
async def get_photo(report_id: ReportId, context: Context) -> Response:
    """The report's photo."""
    row = await context.pool.fetchrow(
        "SELECT photo, photo_type FROM community_reports WHERE id = $1 AND network = $2",
        report_id,
        context.config.network,
    )
    if row is None or row["photo"] is None:
        raise HTTPException(404, f"report {report_id} has no photo")
    return Response(
        bytes(row["photo"]),
        media_type=row["photo_type"],
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


async def _review(context: Context, report_id: int, status: str, body: Review) -> Response:
    try:
        async with context.pool.acquire() as connection:
            await reports.review(
                connection,
                context.config.network,
                report_id,
                status=status,
                by=body.by,
                at=datetime.now(UTC),
                note=body.note,
            )
    except AlertsError as exc:
        raise HTTPException(404, str(exc)) from None
    return Response(status_code=204)


@router.post(
    "/reports/{report_id}/confirm",
    status_code=204,
    dependencies=[Writer],
    responses={**UNAUTHORIZED, 404: {"model": Problem, "description": "no such report"}},
    response_class=Response,
)
async def confirm(report_id: ReportId, body: Review, context: Context) -> Response:
    """Confirm a report: from now on it is evidence in its zone's evaluation."""
    return await _review(context, report_id, "confirmed", body)


@router.post(
    "/reports/{report_id}/dismiss",
    status_code=204,
    dependencies=[Writer],
    responses={**UNAUTHORIZED, 404: {"model": Problem, "description": "no such report"}},
    response_class=Response,
)
async def dismiss(report_id: ReportId, body: Review, context: Context) -> Response:
    """Dismiss a report: it no longer counts."""
    return await _review(context, report_id, "dismissed", body)
