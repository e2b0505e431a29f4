"""The MQTT client's network thread: paho's loop, reconnects, and the one crossing.

:class:`NetworkThread` owns the paho ``Client`` and the thread that drives
it: connect, run ``Client.loop`` and, when the connection is lost, wait a
jittered, doubling delay (:class:`devices.backoff.Backoff`) before the next
attempt. Every paho callback crosses to the event loop through
:meth:`NetworkThread._post`, the only crossing, and lands on the loop-side
:class:`NetworkEvents` (the :class:`~devices.mqtt.client.MqttClient`).
Received messages are batched on the way: the thread appends to a locked list
and wakes the loop once per batch, not once per message.

``publish``, ``ack`` and ``disconnect`` are called from the loop: paho queues
their packets under its own locks and a registered write hook keeps it from
writing from the calling thread, so only this thread touches the socket and
packets leave in the order they were queued (a PUBACK before a DISCONNECT).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from devices.backoff import Backoff
from devices.mqtt.connection import MqttClientConfig
from devices.mqtt.inbox import InboundMessage

__all__ = ["NetworkEvents", "NetworkThread"]

log = logging.getLogger(__name__)

_LOOP_TIMEOUT_S = 1.0  # paho select timeout; publish/ack/disconnect wake it earlier
_CLOSE_GRACE_S = 1.0  # for the last PUBACKs and DISCONNECT to be written
_JOIN_SLACK_S = 2.0  # beyond the connect timeout and grace when joining


class NetworkEvents(Protocol):
    """What the network thread reports, always called on the event loop."""

    def connection_accepted(
        self, generation: int, session_present: bool, subscribing: bool
    ) -> None:
        """CONNACK accepted: connection number ``generation``."""

    def connection_refused(self, reason: str) -> None:
        """CONNACK refused (e.g. bad credentials)."""

    def connection_lost(self, reason: str) -> None:
        """The connection, or an attempt to open it, failed."""

    def subscription_result(self, failed: list[str]) -> None:
        """SUBACK: the reasons of any refused filter."""

    def publish_acknowledged(self, mid: int) -> None:
        """The broker acknowledged our QoS 1 publish ``mid``."""

    def messages_arrived(self) -> None:
        """Messages wait in :meth:`NetworkThread.take_arrivals`."""


def _network_thread_writes(client: paho.Client, userdata: Any, sock: Any) -> None:
    """No-op write hook: the network thread, not the caller, writes."""


class NetworkThread:
    """paho driven by one owned thread; see the module docstring.

    Args:
        config: The broker and the session.
        events: The loop-side receiver of every callback.
        clock: Monotonic seconds, stamped on received messages.
        wall_clock: UTC time, stamped on received messages.
    """

    def __init__(
        self,
        config: MqttClientConfig,
        events: NetworkEvents,
        clock: Callable[[], float],
        wall_clock: Callable[[], datetime],
    ) -> None:
        self.config, self._events = config, events
        self._clock, self._wall_clock = clock, wall_clock
        self.paho = self._make_paho(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._close_deadline_s = 0.0
        # thread side only: backoff, connection and arrival counters
        self._backoff = Backoff(config.backoff_initial_s, config.backoff_max_s)
        self._generation = self._seq = 0
        self._arrivals: list[InboundMessage] = []
        self._arrivals_lock = threading.Lock()

    def _make_paho(self, config: MqttClientConfig) -> paho.Client:
        v5 = config.protocol == "5"
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=config.client_id,
            protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
            clean_session=None if v5 else not config.persistent_session,
            manual_ack=True,
        )
        if config.username is not None:
            client.username_pw_set(config.username, config.password)
        if config.tls:
            client.tls_set(ca_certs=config.ca_file)
        if config.will is not None:
            w = config.will
            client.will_set(w.topic, w.payload, qos=1, retain=w.retain)
        client.max_inflight_messages_set(config.max_inflight_out)
        client.connect_timeout = config.connect_timeout_s
        # Without paho's own loop_start thread, paho writes a queued packet
        # from the *calling* thread, racing this thread for the socket (a
        # PUBACK could go out after a later DISCONNECT, or not at all). With a
        # write hook registered it only queues and wakes this thread's select.
        client.on_socket_register_write = _network_thread_writes
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    def start(self) -> None:
        """Start connecting in the background (call on the event loop)."""
        config, client = self.config, self.paho
        self._loop = asyncio.get_running_loop()
        if config.protocol == "5":
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.ReceiveMaximum = config.max_unacked
            if config.persistent_session:
                props.SessionExpiryInterval = config.session_expiry_s
            client.connect_async(
                config.host,
                config.port,
                config.keepalive_s,
                clean_start=not config.persistent_session,
                properties=props,
            )
        else:  # connect_async does no I/O: it records where to connect
            client.connect_async(config.host, config.port, config.keepalive_s)
        self._thread = threading.Thread(
            target=self._run, name=f"mqtt-{config.client_id}", daemon=True
        )
        self._thread.start()

    async def stop(self) -> None:
        """Send what is queued, then DISCONNECT, and join the thread (bounded)."""
        thread = self._thread
        if thread is None:
            return
        self._close_deadline_s = time.monotonic() + _CLOSE_GRACE_S
        self._stop.set()
        self.paho.disconnect()  # queued behind any PUBACKs
        timeout_s = self.config.connect_timeout_s + _CLOSE_GRACE_S + _JOIN_SLACK_S
        await asyncio.to_thread(thread.join, timeout_s)
        if thread.is_alive():
            log.error("mqtt[%s] network thread did not stop", self.config.broker)

    def take_arrivals(self) -> list[InboundMessage]:
        """Messages received since the last call, in arrival order."""
        with self._arrivals_lock:
            batch, self._arrivals = self._arrivals, []
        return batch

    # ---- the thread ------------------------------------------------------------
    def _run(self) -> None:
        """Connect, run paho's loop, back off and reconnect until stopped."""
        client, stop = self.paho, self._stop
        while not stop.is_set():
            try:
                client.reconnect()
            except OSError as err:  # refused, unreachable, TLS, DNS
                reason = f"connect failed: {err.__class__.__name__}"
                self._post(self._events.connection_lost, reason)
                stop.wait(self._backoff.next_delay_s())
                continue
            self._run_connection()
            if not stop.is_set():
                stop.wait(self._backoff.next_delay_s())
        sock = client.socket()
        if sock is not None:  # the broker did not take our DISCONNECT in time
            with contextlib.suppress(OSError):
                sock.close()

    def _run_connection(self) -> None:
        """Run paho's loop until the connection ends.

        After :meth:`stop` it keeps running until paho has written what was
        queued (the last PUBACKs, then DISCONNECT) and closed the socket, or
        the close grace has passed.
        """
        rc = MQTTErrorCode.MQTT_ERR_SUCCESS
        while rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
            if self._stop.is_set() and time.monotonic() > self._close_deadline_s:
                return
            try:
                rc = self.paho.loop(_LOOP_TIMEOUT_S)
            except Exception:  # a paho fault must not kill the thread
                log.exception("mqtt[%s] network loop failed", self.config.broker)
                rc = MQTTErrorCode.MQTT_ERR_UNKNOWN

    def _post(self, fn: Callable[..., None], *args: object) -> None:
        """The one crossing from the network thread to the event loop."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(fn, *args)

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        if reason.is_failure:
            self._post(self._events.connection_refused, str(reason))
            return
        self._backoff.reset()
        self._generation += 1
        subs: list[tuple[str, int]] = [
            (s.topic, s.qos) for s in self.config.subscriptions
        ]
        if subs:  # every connect: also covers a broker that lost the session
            client.subscribe(subs)
        self._post(
            self._events.connection_accepted,
            self._generation,
            flags.session_present,
            bool(subs),
        )

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        self._post(self._events.connection_lost, str(reason))

    def _on_subscribe(
        self,
        client: paho.Client,
        userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        properties: Any,
    ) -> None:
        failed = [str(r) for r in reasons if r.is_failure]
        self._post(self._events.subscription_result, failed)

    def _on_publish(
        self,
        client: paho.Client,
        userdata: Any,
        mid: int,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        self._post(self._events.publish_acknowledged, mid)

    def _on_message(
        self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage
    ) -> None:
        self._seq += 1
        message = InboundMessage(
            # paho's .topic raises on invalid UTF-8; decode leniently instead
            topic=msg._topic.decode("utf-8", errors="replace"),
            payload=bytes(msg.payload),
            qos=min(msg.qos, 1),
            retain=bool(msg.retain),
            mid=msg.mid,
            duplicate=bool(msg.dup),
            received_at=self._wall_clock(),
            received_monotonic_s=self._clock(),
            generation=self._generation,
            seq=self._seq,
        )
        with self._arrivals_lock:
            self._arrivals.append(message)
            wake = len(self._arrivals) == 1
        if wake:  # one wake-up per batch: the loop drains everything queued
            self._post(self._events.messages_arrived)
