"""Wall displays built on GStreamer: N receive-only webrtcbin peers.

Like hardware decoders and embedded display boxes that use GStreamer, and
the benchmarks' stand-in displays. Run with Debian's ``/usr/bin/python3`` (it
needs ``gi`` and GStreamer's WebRTC typelibs, not the project's venv), by
:class:`bench.viewers.ViewerProcess` and by the interoperability test.
JSON-lines protocol (see ``bench.viewers``):
one ``{"sdp": offer}`` per peer out, one ``{"sdp": answer}`` back in, then
``{"ready": true}``; ``{"stats": true}`` is answered with
``{"frames": [...]}``; closing stdin ends the process.

Each peer is a real WebRTC endpoint (ICE via libnice, DTLS, SRTP) whose H.264
is depayloaded into access units and counted, never decoded: the displays'
decoding is other machines' work. Everything per packet runs in C, so the
stand-ins take far less of the shared cores than Python peers would.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

# High profile, level 4.0, as the test camera's main stream; packetization 1
OFFER_CAPS = (
    "application/x-rtp,media=video,encoding-name=H264,payload=102,"
    "clock-rate=90000,packetization-mode=(string)1,"
    "profile-level-id=(string)640028,level-asymmetry-allowed=(string)1"
)


class Peer:
    """One receive-only webrtcbin in its own pipeline."""

    def __init__(self, index: int, on_offer: Any) -> None:
        self.frames = 0
        self._on_offer = on_offer
        self._offered = False
        self.pipe = Gst.Pipeline.new(f"viewer{index}")
        self.webrtc = Gst.ElementFactory.make("webrtcbin", "webrtc")
        bundle = GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE
        self.webrtc.set_property("bundle-policy", bundle)
        self.pipe.add(self.webrtc)
        direction = GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY
        self.webrtc.emit("add-transceiver", direction, Gst.Caps.from_string(OFFER_CAPS))
        self.webrtc.connect("pad-added", self._pad_added)
        self.webrtc.connect("notify::ice-gathering-state", self._gathering)
        self.pipe.set_state(Gst.State.PLAYING)
        promise = Gst.Promise.new_with_change_func(self._offer_created, None)
        self.webrtc.emit("create-offer", None, promise)

    def _offer_created(self, promise: Any, _data: Any) -> None:
        reply = promise.get_reply()  # keep it: the offer lives inside it
        offer = reply.get_value("offer")
        self.webrtc.emit("set-local-description", offer, None)

    def _gathering(self, *_args: Any) -> None:
        # non-trickle, as the service expects: send the offer once every
        # host candidate is in it
        state = self.webrtc.get_property("ice-gathering-state")
        if state == GstWebRTC.WebRTCICEGatheringState.COMPLETE and not self._offered:
            self._offered = True
            sdp = self.webrtc.get_property("local-description").sdp.as_text()
            self._on_offer(sdp)

    def answer(self, sdp: str) -> None:
        """Apply the service's answer."""
        _res, message = GstSdp.SDPMessage.new_from_text(sdp)
        answer = GstWebRTC.WebRTCSessionDescription.new(
            GstWebRTC.WebRTCSDPType.ANSWER, message
        )
        self.webrtc.emit("set-remote-description", answer, None)

    def _pad_added(self, _element: Any, pad: Any) -> None:
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        depay = Gst.ElementFactory.make("rtph264depay")
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("sync", False)
        for element in (depay, sink):
            self.pipe.add(element)
            element.sync_state_with_parent()
        depay.link(sink)
        pad.link(depay.get_static_pad("sink"))
        sink.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, self._count)

    def _count(self, *_args: Any) -> Any:
        self.frames += 1  # one access unit per buffer (alignment=au)
        return Gst.PadProbeReturn.OK

    def stop(self) -> None:
        """Tear the pipeline down."""
        self.pipe.set_state(Gst.State.NULL)


def main(n: int) -> None:
    """N peers; offers out in order, answers in in the same order."""
    Gst.init(None)
    loop = GLib.MainLoop()
    peers: list[Peer] = []
    offers: dict[int, str] = {}
    ready = threading.Event()

    def send(data: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(data) + "\n")
        sys.stdout.flush()

    def create(i: int) -> bool:
        def offered(sdp: str) -> None:
            offers[i] = sdp
            ready.set()

        peers.append(Peer(i, offered))
        return False

    def read_stdin() -> None:
        for i in range(n):
            ready.clear()
            GLib.idle_add(create, i)
            ready.wait(30)
            send({"sdp": offers[i]})
            answer = json.loads(sys.stdin.readline())
            GLib.idle_add(lambda p=peers[i], s=answer["sdp"]: p.answer(s) and False)
        send({"ready": True})
        for line in sys.stdin:
            if json.loads(line).get("stats"):
                send({"frames": [p.frames for p in peers]})
        GLib.idle_add(loop.quit)

    threading.Thread(target=read_stdin, daemon=True).start()
    loop.run()
    for p in peers:
        p.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]))
