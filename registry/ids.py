"""Identifiers of networks, zones and stations: one shape, shared with the MQTT topics."""

from __future__ import annotations

import re

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
"""A lower-case letter or digit, then up to 62 of letters, digits, ``_`` and ``-``."""
