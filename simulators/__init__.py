"""Encosta's sensor simulator: storms, soil, faults and gateways, published over MQTT.

The library API::

    from simulators import load_scenario, generate, publish
    run = generate(load_scenario("rio-2010-04"), registry, seed=1)  # messages, manifest, truth
    stats = await publish(run.messages, "127.0.0.1", 1883, speed=None)

Only the wire contract is imported from ingest (topics, payloads, quantities, stations).
"""

from simulators.errors import PublishError, ScenarioError, SimulatorError
from simulators.failure import GroundTruth, StationTruth, ZoneTruth
from simulators.gateway import Message
from simulators.manifest import Manifest, Rejection
from simulators.output import read_messages, write_messages, write_run
from simulators.publisher import PublishStats, publish
from simulators.run import Run, end_now_anchor, generate, same_hour_anchor
from simulators.scenario import Scenario, available, load_scenario

__all__ = [
    "GroundTruth",
    "Manifest",
    "Message",
    "PublishError",
    "PublishStats",
    "Rejection",
    "Run",
    "Scenario",
    "ScenarioError",
    "SimulatorError",
    "StationTruth",
    "ZoneTruth",
    "available",
    "end_now_anchor",
    "generate",
    "load_scenario",
    "publish",
    "read_messages",
    "same_hour_anchor",
    "write_messages",
    "write_run",
]
