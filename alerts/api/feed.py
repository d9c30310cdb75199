"""Atom 1.0 feeds of active CAP alerts, in the form public alert aggregators poll.

As Google Public Alerts and the WMO Alert Hub consume them: one ``<entry>`` per active
alert whose ``<link rel="alternate" type="application/cap+xml">`` points at the alert's CAP 1.2
document, ``<id>`` the CAP document's address, ``<updated>`` its ``sent`` time, ``<title>``
its headline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from alerts.payload import CAP_TYPE

if TYPE_CHECKING:
    from datetime import datetime

    from alerts.api.snapshot import PublicAlert

ATOM_TYPE = "application/atom+xml"
_ATOM = "http://www.w3.org/2005/Atom"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{_ATOM}}}{tag}", attrib)
    element.text = text
    return element


def atom_feed(  # noqa: PLR0913  what a feed says about itself
    *,
    feed_id: str,
    title: str,
    self_url: str,
    cap_url: str,
    author: str,
    updated: datetime,
    alerts: list[PublicAlert],
) -> str:
    """The Atom document; ``cap_url`` is formatted with ``identifier`` for each entry's link."""
    ET.register_namespace("", _ATOM)
    feed = ET.Element(f"{{{_ATOM}}}feed")
    _sub(feed, "id", feed_id)
    _sub(feed, "title", title)
    newest = max([updated, *(a.sent for a in alerts)])
    _sub(feed, "updated", newest.isoformat(timespec="seconds"))
    _sub(_sub(feed, "author"), "name", author)
    _sub(feed, "link", rel="self", href=self_url, type=ATOM_TYPE)
    for alert in sorted(alerts, key=lambda a: a.sent, reverse=True):
        entry = _sub(feed, "entry")
        href = cap_url.format(identifier=alert.identifier)
        _sub(entry, "id", href)
        _sub(entry, "title", alert.headline)
        _sub(entry, "updated", alert.sent.isoformat(timespec="seconds"))
        _sub(_sub(entry, "author"), "name", author)
        _sub(entry, "link", rel="alternate", href=href, type=CAP_TYPE)
        _sub(entry, "summary", alert.headline)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(feed, encoding="unicode")
