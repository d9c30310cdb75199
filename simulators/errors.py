"""Exceptions of the simulators package.

The tree::

    SimulatorError             root: catch this to catch everything the simulator raises
    ├── ConfigError            an environment variable has an unusable value (``.variable``)
    ├── ScenarioError          a scenario or hyetograph file is invalid (``.path``, ``.field``)
    └── PublishError           the broker cannot be reached or refused us (``.host``, ``.port``)

Messages say what to change: the file, the field and the allowed range.
"""

from __future__ import annotations


class SimulatorError(Exception):
    """Root of every exception raised by the simulators package."""

    def __reduce__(self) -> tuple[object, ...]:
        """Picklable with keyword-only fields: a worker process's error reaches its parent."""
        return (_rebuilt, (type(self), self.args, self.__dict__))


def _rebuilt(
    cls: type[SimulatorError], args: tuple[object, ...], state: dict[str, object]
) -> SimulatorError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigError(SimulatorError):
    """An environment variable has a value the simulator cannot use; names the variable."""

    def __init__(self, message: str, *, variable: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable


class ScenarioError(SimulatorError):
    """A scenario or hyetograph file cannot be used; names the file and the field."""

    def __init__(self, message: str, *, path: str, field: str | None = None) -> None:
        where = f"{path}: {field}: " if field else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.field = field


class PublishError(SimulatorError):
    """Publishing failed for good (not a transient disconnect, which is retried)."""

    def __init__(self, message: str, *, host: str, port: int) -> None:
        super().__init__(f"MQTT broker {host}:{port}: {message}")
        self.host = host
        self.port = port
