"""The exception of the registry package: a registry file that cannot be loaded."""

from __future__ import annotations


class RegistryError(Exception):
    """The station registry file cannot be loaded (``.path``; ``.field`` when one is at fault).

    The root of the package: everything :mod:`registry` raises is one of these.
    """

    def __init__(self, message: str, *, path: str, field: str | None = None) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.field = field
