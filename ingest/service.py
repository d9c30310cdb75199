"""The ingest service: MQTT in, TimescaleDB out, acknowledged only after commit.

Tasks under one ``asyncio.TaskGroup``:

* ``mqtt``     — keeps a persistent MQTT 5 session (fixed client id, clean start off, session
  expiry), reconnecting with capped jittered backoff; decodes each message and queues it.
* ``writer``   — takes what is queued (up to a batch of readings), commits it, then sends the
  PUBACKs of exactly those messages. Until then the broker holds them: a crash at any moment
  loses nothing, and a redelivery stores nothing twice (the primary key deduplicates).
* ``registry`` — refreshes the set of known stations every minute.
* ``db-probe`` — asks the database ``SELECT 1`` every ``db_probe_s``, so that ``/healthz``
  tells the truth while ingest is idle, not only when a write fails.

No message can end the service: the decoder is total, ``_accept`` turns anything it did not
foresee into an ``internal_error`` reject, and the writer isolates a batch it cannot commit.
Whatever happens to one message, it is recorded and acknowledged, never redelivered forever.

Back-pressure comes from the broker: it sends at most Receive Maximum unacknowledged messages,
so when the database stalls, acknowledgements stop and so does the flow; memory stays bounded.
On SIGTERM the service stops reading, commits and acknowledges what it holds (up to
``drain_s``), and disconnects **without unsubscribing**, so the broker keeps queueing for it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest import mqtt_internals
from ingest.broker import reason_codes
from ingest.config import IngestConfig
from ingest.metrics import IngestMetrics
from ingest.mqtt5 import connect_properties
from ingest.payload import Decoded, PayloadDecoder, Rejected
from ingest.reasons import Reason
from ingest.topic import subscription
from ingest.writer import BatchWriter, Message
from runtime.backoff import Backoff
from runtime.probe import ProbeServer

log = logging.getLogger("encosta.ingest")
_STOP = None
_REGISTRY_REFRESH_S = 60.0
_RECONNECT = Backoff(base_s=1.0, factor=1.5, cap_s=30.0)  # aiomqtt's reconnect example


def _check_granted(topic_filter: str, granted: Sequence[object]) -> None:
    """Raise when the broker refused the subscription (an ACL that does not grant it).

    Otherwise ingest would run connected and healthy-looking while receiving nothing.
    """
    codes = reason_codes(granted)
    if any(code >= 0x80 for code in codes):
        raise aiomqtt.MqttError(
            f"the broker refused the subscription to {topic_filter} (reason code "
            f"{codes[0]:#x}): the account needs the ingest role of this network and share "
            "group (encosta broker sync)"
        )


def topic_text(raw: bytes) -> str:
    """A received topic as text; invalid UTF-8 becomes U+FFFD, which no valid topic holds."""
    return raw.decode("utf-8", errors="replace")


class IngestService:
    """One ingest replica. ``await service.run()`` until ``service.stop()`` is called."""

    def __init__(self, config: IngestConfig, metrics: IngestMetrics | None = None) -> None:
        self.config = config
        self.metrics = metrics or IngestMetrics()
        self._stations: frozenset[str] = frozenset()
        self.decoder = PayloadDecoder(config.network, self._is_known, config.limits)
        # Bounded by pausing the socket reader at the high-water mark (see _fast_path); the
        # queue itself never refuses a message, so nothing read is ever dropped.
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue()
        self._high_water = max(1, config.receive_max)
        self._resume: Callable[[], None] | None = None
        self._stopping = asyncio.Event()
        self._client: aiomqtt.Client | None = None
        self._generation = 0
        self._writer: BatchWriter | None = None
        self.ready = asyncio.Event()  # set once subscribed the first time

    def _is_known(self, station_id: str) -> bool:
        return station_id in self._stations

    def stop(self) -> None:
        """Ask the service to drain and exit (what SIGTERM calls)."""
        self._stopping.set()

    def healthy(self) -> tuple[bool, str]:
        """``/healthz``: connected to the broker; the database answered the probe and the writer."""
        mqtt_ok = self._client is not None
        # The newest evidence wins: a probe or a commit (the writer keeps both).
        db_ok = self._writer is not None and self._writer.healthy
        detail = f"mqtt={'up' if mqtt_ok else 'down'} db={'up' if db_ok else 'down'}"
        return mqtt_ok and db_ok, detail

    async def run(self) -> None:
        """Run until stopped; then drain, acknowledge and disconnect."""
        async with (
            BatchWriter(
                self.config.dsn, self.metrics, reject_raw_bytes=self.config.reject_raw_bytes
            ) as writer,
            ProbeServer(
                self.config.metrics_port,
                self.metrics.registry,
                self.healthy,
                host=self.config.metrics_host,
            ),
        ):
            self._writer = writer
            # The registry read retries while the database is down: SIGTERM must still end it.
            registry_read = asyncio.create_task(writer.known_stations(self.config.network))
            stopping = asyncio.create_task(self._stopping.wait())
            await asyncio.wait([registry_read, stopping], return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not registry_read.done():
                registry_read.cancel()
                log.info("ingest stopped before the station registry could be read")
                return
            self._stations = registry_read.result()
            log.info(
                "ingest starting",
                extra={"stations": len(self._stations), "client_id": self.config.client_id},
            )
            async with asyncio.TaskGroup() as group:
                mqtt = group.create_task(self._mqtt(), name="mqtt")
                drain = group.create_task(self._write_loop(writer), name="writer")
                registry = group.create_task(self._refresh_registry(writer), name="registry")
                probe = group.create_task(self._probe_database(writer), name="db-probe")
                await self._stopping.wait()
                registry.cancel()
                probe.cancel()
                # The receiver stops queueing; the writer commits and acknowledges what was
                # queued before STOP while the connection stays open for the PUBACKs.
                await self._queue.put(_STOP)
                _, pending = await asyncio.wait([drain], timeout=self.config.drain_s)
                if pending:
                    log.warning(
                        "drain deadline passed; unacknowledged messages will be redelivered",
                        extra={"queued": self._queue.qsize()},
                    )
                    drain.cancel()
                mqtt.cancel()
        log.info("ingest stopped")

    async def _refresh_registry(self, writer: BatchWriter) -> None:
        while True:
            await asyncio.sleep(_REGISTRY_REFRESH_S)
            self._stations = await writer.known_stations(self.config.network)

    async def _probe_database(self, writer: BatchWriter) -> None:
        while True:
            before = writer.healthy
            reachable = await writer.ping(self.config.db_probe_timeout_s)
            if reachable != before:
                log.warning(
                    "database probe: %s", "up" if reachable else "down", extra={"up": reachable}
                )
            await asyncio.sleep(self.config.db_probe_s)

    def _client_for(self) -> aiomqtt.Client:
        connect = connect_properties(self.config.session_expiry_s, self.config.receive_max)
        client = aiomqtt.Client(
            self.config.mqtt_host,
            self.config.mqtt_port,
            identifier=self.config.client_id,
            protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=False,
            properties=connect,
            keepalive=30,
            timeout=10,
            **self.config.login.client_options(),
        )
        # Before connecting: the broker may send queued messages right after CONNACK, and
        # paho must not acknowledge any of them before they are committed.
        mqtt_internals.manual_acks(client)  # aiomqtt has no public API for it (#345)
        return client

    async def _mqtt(self) -> None:
        attempt = 0
        topic_filter = subscription(self.config.network, self.config.share_group)
        while not self._stopping.is_set():
            try:
                async with self._client_for() as client:
                    self._generation += 1
                    self._client = client
                    self.metrics.mqtt_connects.inc()
                    self.metrics.mqtt_connected.set(1)
                    self._fast_path(client, self._generation)
                    granted = await client.subscribe(topic_filter, options=SubscribeOptions(qos=1))
                    _check_granted(topic_filter, granted)
                    log.info("subscribed", extra={"filter": topic_filter})
                    self.ready.set()
                    attempt = 0
                    await self._receive(client, self._generation)
            except aiomqtt.MqttError as exc:
                self._client = None
                self.metrics.mqtt_connected.set(0)
                attempt += 1
                delay = _RECONNECT.delay_s(attempt)
                log.warning(
                    "broker connection lost, reconnecting",
                    extra={"error": str(exc), "delay_s": round(delay, 2)},
                )
                await asyncio.sleep(delay)
            finally:
                self._client = None
                self.metrics.mqtt_connected.set(0)

    def _fast_path(self, client: aiomqtt.Client, generation: int) -> None:  # noqa: C901  closures
        """Take the hot path out of aiomqtt's hands.

        Decode in paho's callback, and read every packet that is waiting per readable event
        (aiomqtt reads one, then goes round the event loop); a PUBLISH without properties
        skips paho's message objects (:func:`mqtt_internals.lean_publish`).

        aiomqtt still owns connecting, subscribing and noticing a broken connection. Measured
        in bench/ingest.py: this is what lifts the receive rate to a bare paho subscriber's.
        """
        paho_client = mqtt_internals.paho_client(client)  # aiomqtt has no hook for either part
        sock = paho_client.socket()
        if sock is None:
            raise aiomqtt.MqttError("connected client has no socket")

        def on_message(_c: object, _u: object, message: paho.MQTTMessage) -> None:
            self._accept(
                # paho's ``message.topic`` raises on invalid UTF-8, and an exception here would
                # end the session and bring the message back on the next one, forever.
                topic_text(mqtt_internals.topic_bytes(message)),
                bytes(message.payload),
                message.mid,
                message.qos,
                message.properties,
                generation,
            )

        loop = asyncio.get_running_loop()
        fd = sock.fileno()

        read_packet = mqtt_internals.packet_reader(paho_client)

        def drain() -> None:
            try:
                for _ in range(512):
                    # What loop_read does for one packet, without a syscall to ask whether
                    # another is waiting: paho answers MQTT_ERR_AGAIN when none is.
                    rc = read_packet()
                    if rc != paho.MQTT_ERR_SUCCESS:
                        if rc != paho.MQTT_ERR_AGAIN:
                            mqtt_internals.handle_read_error(paho_client, rc)
                        break
                    if self._queue.qsize() >= self._high_water:
                        # Back-pressure of our own: stop reading the socket until the writer
                        # has caught up; TCP flow control then holds the broker back.
                        loop.remove_reader(fd)
                        self._resume = resume
                        self.metrics.reader_paused.set(1)
                        break
            except Exception as exc:  # noqa: BLE001  as aiomqtt: a broken socket ends the session
                mqtt_internals.end_session(client, exc)

        def resume() -> None:
            if paho_client.socket() is sock:
                loop.add_reader(fd, drain)
            self.metrics.reader_paused.set(0)

        def on_publish(topic: bytes, payload: bytes, mid: int, qos: int) -> None:
            self._accept(topic_text(topic), payload, mid, qos, None, generation)

        paho_client.on_message = on_message  # what the lean path leaves to paho
        mqtt_internals.lean_publish(paho_client, on_publish)
        self._resume = None
        loop.remove_reader(fd)
        loop.add_reader(fd, drain)

    def _accept(  # noqa: PLR0913, PLR0917  the hot path: no intermediate object
        self, topic: str, payload: bytes, mid: int, qos: int, properties: object, generation: int
    ) -> None:
        """Decode one message and queue it for the writer; never raises."""
        if self._stopping.is_set():
            return  # not queued, not acknowledged: redelivered to the next session
        now = time.time()
        try:
            content_type = getattr(properties, "ContentType", None)
            decoded = self.decoder.decode(topic, payload, now, content_type)
        except Exception as exc:  # the decoder is total; this is the last resort behind it
            log.exception("unexpected error accepting a message", extra={"topic": topic})
            detail = f"{type(exc).__name__}: {exc}"
            decoded = Decoded(rejects=[Rejected(Reason.INTERNAL_ERROR, detail, payload)])
        for reject in decoded.rejects:
            self.metrics.rejected.labels(reject.reason.value).inc()
        # Received counters are added up per batch by the writer (a Prometheus counter takes a
        # lock per call, which showed in the profile of the hot path).
        self._queue.put_nowait(
            Message(
                topic,
                payload,
                decoded.readings,
                decoded.rejects,
                decoded.station_id,
                mid,
                qos,
                generation,
                now,
            )
        )

    async def _receive(self, client: aiomqtt.Client, generation: int) -> None:
        # Messages go through the fast path. Only those that arrived between CONNACK and the
        # switch to it come through aiomqtt's queue; iterating also notices a disconnection.
        async for message in client.messages:
            payload = message.payload
            if not isinstance(payload, bytes | bytearray):
                payload = str(payload).encode()
            self._accept(
                message.topic.value,
                bytes(payload),
                message.mid,
                message.qos,
                message.properties,
                generation,
            )

    async def _write_loop(self, writer: BatchWriter) -> None:
        loop = asyncio.get_running_loop()
        stop = False
        while not stop:
            first = await self._queue.get()
            if first is _STOP:
                break
            batch = [first]
            count = len(first.readings)
            deadline = loop.time() + self.config.linger_s
            while count < self.config.batch_readings:
                try:
                    item = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    try:
                        async with asyncio.timeout(remaining):
                            item = await self._queue.get()
                    except TimeoutError:
                        break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
                count += len(item.readings)
            await writer.write(batch)
            self._acknowledge(batch)
            self.metrics.queue_depth.set(self._queue.qsize())
            if self._resume is not None and self._queue.qsize() <= self._high_water // 2:
                resume, self._resume = self._resume, None
                resume()

    def _acknowledge(self, batch: list[Message]) -> None:
        client = self._client
        metrics = self.metrics
        readings = sum(len(m.readings) for m in batch)
        metrics.messages.inc(len(batch))
        metrics.readings_received.inc(readings)
        if readings:
            # Lag of the batch's newest reading: one observation per commit, not per message.
            newest = max(m.readings[-1].ts for m in batch if m.readings).timestamp()
            metrics.lag_seconds.observe(max(0.0, time.time() - newest))
        for message in batch:
            # A message from an earlier connection is redelivered by the broker on the new
            # one; its packet id belongs to the old connection, so it is not ours to ack.
            if client is None or message.generation != self._generation or message.qos == 0:
                continue
            mqtt_internals.ack(client, message.mid, message.qos)  # see _client_for
