"""Prometheus metrics of the ingest service, on a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class IngestMetrics:
    """Counters and histograms one ingest replica exposes on ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "encosta_ingest_messages_received",
            "MQTT messages received (counted when their batch commits)",
            registry=r,
        )
        self.readings_received = Counter(
            "encosta_ingest_readings_received", "Readings decoded from messages", registry=r
        )
        self.stored = Counter(
            "encosta_ingest_readings_stored", "Readings committed (new rows)", registry=r
        )
        self.duplicates = Counter(
            "encosta_ingest_readings_duplicate",
            "Readings already stored (re-sent or re-delivered)",
            registry=r,
        )
        self.rejected = Counter(
            "encosta_ingest_rejected", "Rejected messages or records", ["reason"], registry=r
        )
        self.batch_size = Histogram(
            "encosta_ingest_batch_readings",
            "Readings per committed batch",
            registry=r,
            buckets=(1, 10, 50, 100, 500, 1000, 2000, 5000, 10000, 50000),
        )
        self.batch_seconds = Histogram(
            "encosta_ingest_batch_seconds",
            "Time to commit one batch",
            registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.lag_seconds = Histogram(
            "encosta_ingest_lag_seconds",
            "Commit time minus the newest reading time of a committed batch",
            registry=r,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60, 300, 900, 3600, 86400),
        )
        self.queue_depth = Gauge(
            "encosta_ingest_queue_depth", "Messages received and not yet committed", registry=r
        )
        self.reader_paused = Gauge(
            "encosta_ingest_reader_paused",
            "1 while reading from the broker is paused (queue full)",
            registry=r,
        )
        self.db_retries = Counter(
            "encosta_ingest_db_retries", "Batch writes retried after a database error", registry=r
        )
        self.mqtt_connects = Counter(
            "encosta_ingest_mqtt_connects", "Broker (re)connections", registry=r
        )
        self.mqtt_connected = Gauge(
            "encosta_ingest_mqtt_connected", "1 while connected", registry=r
        )
        self.db_up = Gauge(
            "encosta_ingest_db_up", "1 when the last database call succeeded", registry=r
        )
