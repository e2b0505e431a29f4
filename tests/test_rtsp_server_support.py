"""Proves the real RTSP test server, its clips and the barcode reader work."""

from __future__ import annotations

import re
import time
from pathlib import Path

import av
import av.error
import numpy as np
import pytest

from tests.support.barcode import read_barcode
from tests.support.fixtures import (
    SECURE_PASSWORD,
    SECURE_USER,
    RtspServerFactory,
)
from tests.support.rtsp_server import MountSpec, RtspServer

pytestmark = pytest.mark.rtsp

OPEN_OPTIONS = {"rtsp_transport": "tcp", "analyzeduration": "0", "probesize": "32"}
START_CODE = re.compile(b"\x00\x00\x01")


def nal_types(data: bytes, *, hevc: bool = False) -> list[int]:
    """Returns the NAL unit types of an Annex-B access unit."""
    types: list[int] = []
    for match in START_CODE.finditer(data):
        if match.end() < len(data):
            header = data[match.end()]
            types.append((header >> 1) & 0x3F if hevc else header & 0x1F)
    return types


def open_rtsp(
    url: str, transport: str = "tcp"
) -> tuple[av.container.InputContainer, float]:
    """Opens an RTSP URL the way the service does; returns it and the seconds."""
    start = time.perf_counter()
    container = av.open(
        url, options={**OPEN_OPTIONS, "rtsp_transport": transport}, timeout=(5, 5)
    )
    return container, time.perf_counter() - start


def read_packets(
    container: av.container.InputContainer,
    count: int = 30,
    limit: int = 150,
) -> list[tuple[bool, bytes]]:
    """Demuxes ``count`` packets from the first keyframe on (at most ``limit``).

    A client joining the shared mount mid-GOP waits for the next IDR, so
    packets before the first keyframe are discarded.
    """
    stream = container.streams.video[0]
    packets: list[tuple[bool, bytes]] = []
    for seen, packet in enumerate(container.demux(stream)):
        if seen >= limit:
            break
        if packet.size == 0 or (not packets and not packet.is_keyframe):
            continue
        packets.append((bool(packet.is_keyframe), bytes(packet)))
        if len(packets) >= count:
            break
    return packets


def report(capsys: pytest.CaptureFixture[str], message: str) -> None:
    """Prints a measurement so it shows in ``pytest -q`` output."""
    with capsys.disabled():
        print(f"\n[rtsp] {message}")


def test_main_opens_with_sps_on_keyframes(
    rtsp_server: RtspServer, capsys: pytest.CaptureFixture[str]
) -> None:
    container, open_s = open_rtsp(rtsp_server.url("/main"))
    try:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (1920, 1080)
        packets = read_packets(container)
    finally:
        container.close()
    # the open time is reported, not asserted: bench/first_frame.py measures
    # it (its same-run reference is this open up to the first keyframe)
    report(capsys, f"/main (tcp) opened in {open_s * 1000:.0f} ms")
    assert len(packets) == 30
    keyframes = [data for key, data in packets if key]
    assert keyframes
    for data in keyframes:
        types = nal_types(data)
        assert 7 in types, types  # SPS
        assert 8 in types, types  # PPS
        assert 5 in types, types  # IDR slice
    # Each packet is one whole access unit: never two IDR packets in a row
    # (the split-IDR trap of config-interval=-1).
    assert not packets[1][0]


def test_main_over_udp_and_sub(
    rtsp_server: RtspServer, capsys: pytest.CaptureFixture[str]
) -> None:
    for mount, transport, size in (
        ("/main", "udp", (1920, 1080)),
        ("/sub", "tcp", (640, 360)),
    ):
        container, open_s = open_rtsp(rtsp_server.url(mount), transport)
        try:
            ctx = container.streams.video[0].codec_context
            assert (ctx.width, ctx.height) == size
            packets = read_packets(container, count=5)
        finally:
            container.close()
        report(capsys, f"{mount} ({transport}) opened in {open_s * 1000:.0f} ms")
        assert packets
        assert packets[0][0]


def test_hevc_mount(rtsp_server: RtspServer) -> None:
    clip = rtsp_server.media_dir / rtsp_server.mounts["/hevc"].file
    assert clip.is_file(), f"{clip} missing: run scripts/setup.sh (needs libx265)"
    container, _ = open_rtsp(rtsp_server.url("/hevc"))
    try:
        assert container.streams.video[0].codec_context.name == "hevc"
        packets = read_packets(container, count=5)
    finally:
        container.close()
    assert packets
    types = nal_types(packets[0][1], hevc=True)
    assert {32, 33, 34} <= set(types), types  # VPS, SPS, PPS on the IRAP


def test_secure_requires_password(
    rtsp_server: RtspServer, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(av.error.HTTPUnauthorizedError):
        open_rtsp(rtsp_server.url("/secure"))
    with pytest.raises(av.error.HTTPUnauthorizedError):
        open_rtsp(rtsp_server.url("/secure", SECURE_USER, "wrong-password"))
    container, open_s = open_rtsp(
        rtsp_server.url("/secure", SECURE_USER, SECURE_PASSWORD)
    )
    try:
        packets = read_packets(container)
    finally:
        container.close()
    report(capsys, f"/secure (tcp, Basic auth) opened in {open_s * 1000:.0f} ms")
    assert len(packets) == 30
    assert any(7 in nal_types(data) for key, data in packets if key)


def test_open_mount_accepts_any_credentials(rtsp_server: RtspServer) -> None:
    container, _ = open_rtsp(rtsp_server.url("/sub", SECURE_USER, SECURE_PASSWORD))
    container.close()


def test_unknown_mount_is_404(rtsp_server: RtspServer) -> None:
    url = rtsp_server.url("/main").replace("/main", "/nope")
    with pytest.raises(av.error.HTTPNotFoundError):
        open_rtsp(url)


def test_url_encodes_credentials(rtsp_server: RtspServer) -> None:
    url = rtsp_server.url("secure", "a b", "p@ss/w:rd")
    assert url == f"rtsp://a%20b:p%40ss%2Fw%3Ard@127.0.0.1:{rtsp_server.port}/secure"
    with pytest.raises(KeyError):
        rtsp_server.url("/missing")


def test_mount_spec_validation() -> None:
    with pytest.raises(ValueError, match="both user and password"):
        MountSpec("x.h264", user="admin")
    with pytest.raises(ValueError, match="must not contain"):
        MountSpec("x.h264", user="a:b", password="x")


def test_restart_keeps_port(
    private_rtsp_server: RtspServerFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    server = private_rtsp_server({"/main": MountSpec("test_main.h264")})
    port = server.port
    first_pid = server.pid
    container, _ = open_rtsp(server.url("/main"))
    container.close()

    server.restart()
    assert server.port == port
    assert server.running
    assert server.pid != first_pid
    container, open_s = open_rtsp(server.url("/main"))
    try:
        assert read_packets(container, count=3)
    finally:
        container.close()
    report(capsys, f"/main after restart opened in {open_s * 1000:.0f} ms")

    server.stop()
    server.stop()  # idempotent
    assert not server.running
    with pytest.raises(av.error.FFmpegError):
        open_rtsp(server.url("/main"))
    server.start()
    assert server.port == port


def test_latency_log_matches_barcodes(
    private_rtsp_server: RtspServerFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = tmp_path / "latency.log"
    server = private_rtsp_server(
        {"/latency": MountSpec("latency_main.h264")}, latency_log=log
    )
    container, _ = open_rtsp(server.url("/latency"))
    received: list[tuple[int | None, int]] = []
    try:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            for frame in packet.decode():
                number = read_barcode(frame.to_ndarray(format="gray"))
                received.append((number, time.time_ns()))
            if len(received) >= 25:
                break
    finally:
        container.close()
    server.stop()
    numbers = [n for n, _ in received]
    assert None not in numbers
    first = numbers[0]
    assert first is not None
    assert numbers == list(range(first, first + len(numbers)))
    sent: dict[int, int] = {}
    for line in log.read_text().splitlines():
        frame_number, time_ns = map(int, line.split())
        sent.setdefault(frame_number, time_ns)
    latencies_ms = sorted(
        (t - sent[n]) / 1e6 for n, t in received if n is not None and n in sent
    )
    assert len(latencies_ms) == len(received)
    median = latencies_ms[len(latencies_ms) // 2]
    report(capsys, f"/latency send->decode median {median:.1f} ms (PyAV, tcp)")
    assert latencies_ms[0] >= 0
    assert median < 500


def test_read_barcode_on_latency_clip(media_dir: Path) -> None:
    with av.open(str(media_dir / "latency_main.h264")) as container:
        decoded = 0
        for index, frame in enumerate(container.decode(video=0)):
            assert read_barcode(frame.to_ndarray(format="rgb24")) == index
            if index % 97 == 0:
                small = frame.reformat(width=320, height=180).to_ndarray(format="rgb24")
                assert read_barcode(small) == index
            decoded += 1
    assert decoded == 500


def test_read_barcode_rejects_frames_without_barcode() -> None:
    assert read_barcode(np.full((720, 1280, 3), 128, dtype=np.uint8)) is None
    assert read_barcode(np.zeros((720, 1280, 3), dtype=np.uint8)) is None
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, size=(720, 1280, 3), dtype=np.uint8)
    assert read_barcode(noise) is None
