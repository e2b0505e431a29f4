"""Real RTSP test server on Debian's GStreamer RTSP server library.

Run with Debian's system interpreter (the ``gi`` bindings are not available in
the project's virtual environment)::

    /usr/bin/python3 tests/support/gst_rtsp_server.py --port 8554 \\
        --mount /main=data/media/test_main.h264 \\
        --mount /secure=data/media/test_main.h264:admin:s3cret-Pa55 \\
        --mount /lat=data/media/latency_main.h264 --latency-log lat.log

Every mount loops a raw Annex-B H.264 (``.h264``/``.264``) or H.265
(``.h265``/``.hevc``/``.265``) file forever at ``--fps`` frames per second.
The pipeline per mount is::

    multifilesrc loop=true ! h26Xparse config-interval=0
      ! video/x-h26X,stream-format=byte-stream,alignment=au
      ! identity sync=true ! rtph26Xpay name=pay0 config-interval=0

with these fixes (see docs/field-notes.md, "Test RTSP server"):

* A pad probe on the caps filter's source pad restamps every access unit with
  PTS = DTS = n x frame duration, counting on across loops (the parser hands
  out PTS 0 and does not advance DTS on IDR units).
* ``config-interval=0`` on parser and payloader because the clips repeat
  SPS/PPS before every IDR themselves; with ``-1`` a multi-slice IDR is split
  into two key packets with the same timestamp. ``alignment=au`` makes each
  buffer one whole access unit.
* ``identity sync=true`` paces the stream in real time in front of the
  payloader, so the payloader's output time is the send time (no queue of
  pre-rolled frames between it and the network) and the media is live: a
  client joining a shared mount gets the current picture, not the start.

Media factories are shared (one pipeline per mount for all clients) and serve
RTP over UDP and over the RTSP TCP connection. A mount may carry
``:user:password``; it then requires RTSP Basic authentication as that user,
while mounts without credentials are open to anyone.

For mounts whose file name starts with ``latency_`` and when ``--latency-log``
is given, the server appends one line ``frame_number wall_clock_time_ns`` per
frame, written when the payloader pushes the frame's first RTP packet;
``frame_number`` is the access-unit count of the mount's pipeline modulo the
clip length, which equals the barcode in ``latency_main.h264``.

The script prints ``READY <port>`` on stdout once it listens (``--port 0``
picks a free port) and exits with status 0 on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstBase", "1.0")
    gi.require_version("GstRtsp", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstBase, GstRtsp, GstRtspServer
except (ImportError, ValueError) as exc:  # pragma: no cover - environment check
    sys.stderr.write(
        f"gst_rtsp_server: GStreamer bindings unavailable ({exc}); install the "
        "Debian packages python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp "
        "gstreamer1.0-plugins-good gstreamer1.0-plugins-bad and run this script "
        "with /usr/bin/python3\n"
    )
    sys.exit(3)

H265_SUFFIXES = {".h265", ".hevc", ".265"}
ANONYMOUS_ROLE = "anonymous"


@dataclass(frozen=True)
class Mount:
    """One RTSP mount point.

    Attributes:
        path: Mount path, starting with ``/``.
        file: Raw Annex-B elementary stream file to loop.
        user: User name required for access, or ``None`` for an open mount.
        password: Password of ``user``.
    """

    path: str
    file: Path
    user: str | None
    password: str | None

    @property
    def hevc(self) -> bool:
        """Whether the file is H.265."""
        return self.file.suffix.lower() in H265_SUFFIXES

    @property
    def latency(self) -> bool:
        """Whether the mount's send times are logged."""
        return self.file.name.startswith("latency_")


def parse_mount(spec: str) -> Mount:
    """Parses ``PATH=FILE[:user:password]`` (the password may contain ``:``).

    Args:
        spec: The command-line value.

    Returns:
        The mount.

    Raises:
        argparse.ArgumentTypeError: If the value is malformed or the file is
            missing.
    """
    path, sep, rest = spec.partition("=")
    if not sep or not path.startswith("/") or not rest:
        raise argparse.ArgumentTypeError(f"expected PATH=FILE[:user:password]: {spec}")
    parts = rest.split(":", 2)
    if len(parts) == 1:
        file, user, password = parts[0], None, None
    elif len(parts) == 3 and parts[1] and parts[2]:
        file, user, password = parts
    else:
        raise argparse.ArgumentTypeError(f"expected FILE:user:password: {rest}")
    file_path = Path(file).resolve()
    if not file_path.is_file():
        raise argparse.ArgumentTypeError(f"no such media file: {file_path}")
    return Mount(path, file_path, user, password)


def count_access_units(file: Path, hevc: bool) -> int:
    """Counts the pictures in an Annex-B file (first slices of each picture).

    Args:
        file: Raw H.264/H.265 file.
        hevc: Whether the file is H.265.

    Returns:
        The number of access units (frames).
    """
    data = file.read_bytes()
    count = 0
    for match in re.finditer(b"\x00\x00\x01", data):
        pos = match.end()
        if hevc:
            if pos + 2 >= len(data):
                continue
            nal_type = (data[pos] >> 1) & 0x3F
            # first_slice_segment_in_pic_flag is the first bit after the header.
            if nal_type < 32 and data[pos + 2] & 0x80:
                count += 1
        else:
            if pos + 1 >= len(data):
                continue
            nal_type = data[pos] & 0x1F
            # first_mb_in_slice == 0 is ue(v) "1", i.e. the first bit set.
            if nal_type in (1, 5) and data[pos + 1] & 0x80:
                count += 1
    return count


class LatencyLog:
    """Thread-safe, line-buffered ``frame_number wall_clock_time_ns`` writer."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._file: TextIO | None = path.open("a", buffering=1)

    def write(self, frame_number: int, time_ns: int) -> None:
        """Appends one line."""
        with self._lock:
            if self._file is not None:
                self._file.write(f"{frame_number} {time_ns}\n")

    def close(self) -> None:
        """Closes the file; later writes are dropped."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


REQUIRED_ELEMENTS = {
    "multifilesrc": "gstreamer1.0-plugins-good",
    "capsfilter": "libgstreamer1.0-0",
    "identity": "libgstreamer1.0-0",
}
CODEC_ELEMENTS = {
    "h264parse": "gstreamer1.0-plugins-bad",
    "rtph264pay": "gstreamer1.0-plugins-good",
    "h265parse": "gstreamer1.0-plugins-bad",
    "rtph265pay": "gstreamer1.0-plugins-good",
}


def check_elements(mounts: list[Mount]) -> str | None:
    """Returns a message naming missing elements and Debian packages, if any."""
    needed = dict(REQUIRED_ELEMENTS)
    for mount in mounts:
        codec = "h265" if mount.hevc else "h264"
        for name in (f"{codec}parse", f"rtp{codec}pay"):
            needed[name] = CODEC_ELEMENTS[name]
    missing = {
        n: pkg for n, pkg in needed.items() if Gst.ElementFactory.find(n) is None
    }
    if not missing:
        return None
    packages = " ".join(sorted(set(missing.values())))
    return (
        f"GStreamer elements missing: {', '.join(sorted(missing))}; "
        f"install the Debian package(s): {packages}"
    )


def _make(factory: str, **props: Any) -> Gst.Element:
    element = Gst.ElementFactory.make(factory, None)
    if element is None:
        raise RuntimeError(
            f"GStreamer element {factory!r} missing: install the Debian packages "
            "gstreamer1.0-plugins-good and gstreamer1.0-plugins-bad"
        )
    for name, value in props.items():
        element.set_property(name.replace("_", "-"), value)
    return element


def _on_element_added(_bin: Gst.Bin, _sub: Gst.Bin, element: Gst.Element) -> None:
    if isinstance(element, GstBase.BaseSink):
        element.set_property("processing-deadline", 0)


class LoopFactory(GstRtspServer.RTSPMediaFactory):
    """Shared media factory looping one elementary-stream file."""

    def __init__(
        self,
        mount: Mount,
        fps: int,
        latency_log: LatencyLog | None,
        clip_frames: int,
    ) -> None:
        super().__init__()
        self.mount = mount
        self.frame_ns = Gst.SECOND // fps
        self.fps = fps
        self.latency_log = latency_log if mount.latency else None
        self.clip_frames = max(1, clip_frames)
        self.set_shared(True)
        self.set_protocols(GstRtsp.RTSPLowerTrans.UDP | GstRtsp.RTSPLowerTrans.TCP)
        self.set_suspend_mode(GstRtspServer.RTSPSuspendMode.NONE)
        self.connect("media-configure", self._on_media_configure)

    @staticmethod
    def _on_media_configure(
        _factory: GstRtspServer.RTSPMediaFactory, media: GstRtspServer.RTSPMedia
    ) -> None:
        """Makes the network sinks send at once (no 20 ms processing deadline).

        The live pipeline otherwise takes the sinks' default 20 ms
        ``processing-deadline`` as its latency and holds every packet 20 ms
        after ``identity`` released it, which would falsify the latency log.
        """
        pipeline = media.get_element().get_parent()
        if isinstance(pipeline, Gst.Bin):
            pipeline.connect("deep-element-added", _on_element_added)

    def do_create_element(self, url: GstRtsp.RTSPUrl) -> Gst.Element:
        """Builds a fresh pipeline bin; counters start at 0 for each one."""
        codec = "h265" if self.mount.hevc else "h264"
        location = str(self.mount.file).replace("%", "%%")
        bin_ = Gst.Bin.new(None)
        src = _make(
            "multifilesrc",
            location=location,
            loop=True,
            caps=Gst.Caps.from_string(f"video/x-{codec},stream-format=byte-stream"),
        )
        parse = _make(f"{codec}parse", config_interval=0)
        caps = _make(
            "capsfilter",
            caps=Gst.Caps.from_string(
                f"video/x-{codec},stream-format=byte-stream,alignment=au"
            ),
        )
        pace = _make("identity", sync=True, silent=True)
        pay = _make(f"rtp{codec}pay", name="pay0", pt=96, config_interval=0)
        for element in (src, parse, caps, pace, pay):
            bin_.add(element)
        src.link(parse)
        parse.link(caps)
        caps.link(pace)
        pace.link(pay)

        counter = [0]
        frame_ns = self.frame_ns

        def restamp(_pad: Gst.Pad, info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
            buf = info.get_buffer()
            if buf is not None:
                pts = counter[0] * frame_ns
                counter[0] += 1
                buf.pts = pts
                buf.dts = pts
                buf.duration = frame_ns
            return Gst.PadProbeReturn.OK

        caps.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, restamp)

        if self.latency_log is not None:
            log = self.latency_log
            clip_frames = self.clip_frames
            last = [-1]

            def sent(_pad: Gst.Pad, info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
                now = time.time_ns()
                if info.type & Gst.PadProbeType.BUFFER_LIST:
                    blist = info.get_buffer_list()
                    buf = blist.get(0) if blist.length() else None
                else:
                    buf = info.get_buffer()
                if buf is None or buf.pts == Gst.CLOCK_TIME_NONE:
                    return Gst.PadProbeReturn.OK
                index = (buf.pts + frame_ns // 2) // frame_ns
                if index != last[0]:
                    last[0] = index
                    log.write(index % clip_frames, now)
                return Gst.PadProbeReturn.OK

            pay.get_static_pad("src").add_probe(
                Gst.PadProbeType.BUFFER | Gst.PadProbeType.BUFFER_LIST, sent
            )
        return bin_


def user_role(user: str) -> str:
    """Returns the role name of a user (hex-encoded: role names are restricted)."""
    return f"user-{user.encode().hex()}"


def build_auth(mounts: list[Mount]) -> GstRtspServer.RTSPAuth | None:
    """Creates Basic authentication with one role (token) per user."""
    users = {m.user: m.password for m in mounts if m.user is not None}
    if not users:
        return None
    auth = GstRtspServer.RTSPAuth()
    auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
    anonymous = GstRtspServer.RTSPToken()
    anonymous.set_string("media.factory.role", ANONYMOUS_ROLE)
    auth.set_default_token(anonymous)
    for user, password in users.items():
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", user_role(user))
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    return auth


def permissions_for(mount: Mount, all_users: set[str]) -> GstRtspServer.RTSPPermissions:
    """Returns who may see a mount: its user, or everybody when it is open.

    Every role gets ``access`` (the mount exists); only allowed roles get
    ``construct``. A client that is denied ``construct`` receives 401 with a
    Basic challenge, whereas a denied ``access`` would answer 404.
    """
    perms = GstRtspServer.RTSPPermissions()
    for role in [ANONYMOUS_ROLE, *(user_role(u) for u in sorted(all_users))]:
        allowed = mount.user is None or role == user_role(mount.user)
        perms.add_permission_for_role(role, "media.factory.access", True)
        perms.add_permission_for_role(role, "media.factory.construct", allowed)
    return perms


def main(argv: list[str] | None = None) -> int:
    """Runs the server until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description="Loop Annex-B files over RTSP.")
    parser.add_argument("--port", type=int, default=8554, help="0 picks a free one")
    parser.add_argument("--address", default="127.0.0.1", help="listen address")
    parser.add_argument(
        "--mount",
        type=parse_mount,
        action="append",
        required=True,
        metavar="PATH=FILE[:user:password]",
    )
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--latency-log", type=Path, default=None)
    args = parser.parse_args(argv)
    mounts: list[Mount] = args.mount
    if len({m.path for m in mounts}) != len(mounts):
        parser.error("duplicate mount path")
    if args.fps <= 0:
        parser.error("--fps must be positive")

    Gst.init(None)
    missing = check_elements(mounts)
    if missing:
        sys.stderr.write(f"gst_rtsp_server: {missing}\n")
        return 3
    latency_log = LatencyLog(args.latency_log) if args.latency_log else None

    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))
    auth = build_auth(mounts)
    if auth is not None:
        server.set_auth(auth)
    users = {m.user for m in mounts if m.user is not None}
    mount_points = server.get_mount_points()
    for mount in mounts:
        frames = count_access_units(mount.file, mount.hevc) if mount.latency else 1
        factory = LoopFactory(mount, args.fps, latency_log, frames)
        if auth is not None:
            factory.set_permissions(permissions_for(mount, users))
        mount_points.add_factory(mount.path, factory)

    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        sys.stderr.write(f"gst_rtsp_server: cannot listen on port {args.port}\n")
        return 2

    pool = server.get_session_pool()

    def cleanup_sessions() -> bool:
        pool.cleanup()
        return True

    GLib.timeout_add_seconds(2, cleanup_sessions)

    def quit_loop() -> bool:
        loop.quit()
        return False

    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum, quit_loop)

    sys.stdout.write(f"READY {server.get_bound_port()}\n")
    sys.stdout.flush()
    try:
        loop.run()
    finally:
        if latency_log is not None:
            latency_log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
