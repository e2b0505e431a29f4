"""Live video cannot be exhausted (issue 10): reaping, limits, ownership, SDP errors.

Against the running service with real aiortc peers. The attack is the
issue's: offers with ICE credentials and a fake fingerprint but no usable
candidate, which stay ``connecting`` for ever unless reaped.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from aiortc import RTCSessionDescription

from devices.cameras.config import StreamRole
from tests.integration.live_peers import (
    Viewer,
    bearer,
    client,
    crafted_offer,
    metric,
    mint,
    real_offer,
    site,
    until,
    with_fake_fingerprint,
)
from tests.support.rtsp_server import RtspServer
from tests.support.service import RunningService, running_service
from wall.live.core.lifetime import ReapReason
from wall.platform.auth import Role

pytestmark = pytest.mark.rtsp

GATE = "/api/v1/cameras/gate/webrtc"
PANEL0 = "/api/v1/walls/main/panels/0/webrtc"


def gate_users(svc: RunningService) -> int:
    gate = svc.runtime.fleet.cameras["gate"]
    return sum(gate.stream(role).health().viewers for role in StreamRole)


def listed(svc: RunningService) -> set[str]:
    return {str(s["session_id"]) for s in svc.runtime.relay.sessions()}


async def test_never_connecting_offers_are_reaped_and_another_viewer_gets_video(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    connect_s = 2.0
    settings = site(
        tmp_path, rtsp_server, connect_timeout_s=connect_s, max_viewers=8,
        max_per_token=3, reserved_for_displays=2,
    )  # fmt: skip
    _, attacker = await mint(settings, "attacker")
    _, operator = await mint(settings, "operator")
    offers = [await crafted_offer(), await crafted_offer(), await crafted_offer(True)]
    async with running_service(settings) as svc, client(svc) as http:
        opened: dict[str, float] = {}
        for sdp in offers:
            t = time.monotonic()
            r = await http.post(GATE, json={"sdp": sdp}, headers=bearer(attacker))
            assert r.status_code == 200, r.text
            opened[r.json()["session_id"]] = t
        r = await http.post(GATE, json={"sdp": offers[0]}, headers=bearer(attacker))
        assert r.status_code == 429
        assert r.json()["error"] == "too_many_sessions_for_token"
        assert "this token already holds 3 live sessions" in r.json()["message"]
        # the abusive token is at its cap; a viewer of another token gets video
        viewer = Viewer()
        async with client(svc, "127.0.0.2") as other:
            await viewer.open(other, GATE, operator)
        try:
            assert gate_users(svc) == 4
            gone: dict[str, float] = {}
            async with asyncio.timeout(connect_s + 15):
                while len(gone) < len(opened):
                    now, present = time.monotonic(), listed(svc)
                    gone |= {
                        s: now for s in opened if s not in present and s not in gone
                    }
                    await asyncio.sleep(0.05)
            for session_id, t in gone.items():
                assert t - opened[session_id] >= connect_s  # never early
            assert listed(svc) == {viewer.session_id}  # the real viewer is kept
            assert gate_users(svc) == 1  # the readers of the reaped are released
            frames = viewer.frames
            await until(lambda: viewer.frames > frames, 10)
            text = (await http.get("/metrics")).text
            assert (
                metric(
                    text, "citywall_live_sessions_reaped_total", reason="not_connected"
                )
                == 3
            )
            assert (
                metric(text, "citywall_live_sessions_refused_total", limit="token") == 1
            )
            assert (
                metric(text, "citywall_live_sessions", kind="webrtc", pool="viewer")
                == 1
            )
            # capacity came back
            r = await http.post(GATE, json={"sdp": offers[0]}, headers=bearer(attacker))
            assert r.status_code == 200, r.text
        finally:
            await viewer.close()


async def test_a_panel_offer_that_never_connects_releases_the_compositor(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    settings = site(tmp_path, rtsp_server, connect_timeout_s=1.5)
    async with running_service(settings) as svc, client(svc) as http:
        panel = svc.runtime.panels.panel("main", 0)
        r = await http.post(
            PANEL0, json={"sdp": await crafted_offer()}, headers=svc.auth(Role.VIEWER)
        )
        assert r.status_code == 200, r.text
        assert panel.subscriber_count == 1 and panel.running
        await until(lambda: panel.subscriber_count == 0, 15)
        # the compositor stops once its linger after the last subscriber ends
        await until(lambda: not panel.running, panel.spec.linger_s + 10)
        assert svc.runtime.relay.reaped[ReapReason.NOT_CONNECTED] == 1


async def test_a_peer_whose_dtls_fails_is_closed_without_waiting(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    connect_s = 60.0  # far beyond the test's wait: the failure itself closes it
    settings = site(tmp_path, rtsp_server, connect_timeout_s=connect_s)
    async with running_service(settings) as svc, client(svc) as http:
        pc, sdp = await real_offer()
        try:
            r = await http.post(
                GATE,
                json={"sdp": with_fake_fingerprint(sdp)},
                headers=svc.auth(Role.VIEWER),
            )
            assert r.status_code == 200, r.text
            body = r.json()
            await pc.setRemoteDescription(RTCSessionDescription(body["sdp"], "answer"))
            waited = await until(lambda: body["session_id"] not in listed(svc), 20)
            assert waited < connect_s / 2
            assert svc.runtime.relay.reaped[ReapReason.FAILED] == 1
            assert gate_users(svc) == 0
        finally:
            await pc.close()


async def test_a_peer_gone_silent_is_closed_and_a_live_one_is_kept(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    silent_s = 3.0  # viewers report every 0.5-1.5 s
    settings = site(tmp_path, rtsp_server, silent_after_s=silent_s)
    async with running_service(settings) as svc, client(svc) as http:
        quiet, live = Viewer(), Viewer()
        try:
            await quiet.open(http, GATE, svc.tokens[Role.VIEWER])
            await live.open(http, GATE, svc.tokens[Role.OPERATOR])
            t0 = time.monotonic()
            quiet.go_silent()
            await until(lambda: quiet.session_id not in listed(svc), silent_s + 15)
            # silence counts from the peer's last packet, which came up to one
            # report interval (1.5 s) before it went quiet at t0
            assert time.monotonic() - t0 >= silent_s - 1.5
            assert svc.runtime.relay.reaped[ReapReason.SILENT] == 1
            # the live viewer outlasts twice the bound and still gets frames
            await asyncio.sleep(max(0.0, 2 * silent_s - (time.monotonic() - t0)))
            assert live.session_id in listed(svc)
            frames = live.frames
            await until(lambda: live.frames > frames, 10)
            assert gate_users(svc) == 1
        finally:
            await quiet.close()
            await live.close()


async def test_sessions_belong_to_their_creator(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    settings = site(tmp_path, rtsp_server, connect_timeout_s=60)
    _, alice = await mint(settings, "alice")
    _, bob = await mint(settings, "bob")
    _, kiosk = await mint(settings, "kiosk-duty", wall_id="duty")
    offer = await crafted_offer()
    async with running_service(settings) as svc, client(svc) as http:

        async def open_as(secret: str) -> str:
            r = await http.post(GATE, json={"sdp": offer}, headers=bearer(secret))
            assert r.status_code == 200, r.text
            return str(r.json()["session_id"])

        async def ids(headers: dict[str, str]) -> set[str]:
            r = await http.get("/api/v1/webrtc", headers=headers)
            assert r.status_code == 200, r.text
            return {s["session_id"] for s in r.json()["sessions"]}

        mine, bobs = await open_as(alice), await open_as(bob)
        # a kiosk bound to another wall, and another viewer, cannot hang up
        for intruder in (kiosk, bob):
            r = await http.delete(f"/api/v1/webrtc/{mine}", headers=bearer(intruder))
            assert r.status_code == 404 and r.json()["error"] == "session_not_found"
        assert mine in listed(svc)
        # the list shows only the caller's own; an admin sees all
        assert await ids(bearer(alice)) == {mine}
        assert await ids(bearer(bob)) == {bobs}
        assert await ids(bearer(kiosk)) == set()
        assert await ids(svc.auth()) == {mine, bobs}
        (entry,) = (await http.get("/api/v1/webrtc", headers=bearer(alice))).json()[
            "sessions"
        ]
        assert entry["owner"] == "alice" and entry["kind"] == "webrtc"
        assert entry["pool"] == "viewer"
        # the creator and an admin may
        r = await http.delete(f"/api/v1/webrtc/{mine}", headers=bearer(alice))
        assert r.status_code == 204
        r = await http.delete(f"/api/v1/webrtc/{bobs}", headers=svc.auth())
        assert r.status_code == 204
        assert listed(svc) == set() and gate_users(svc) == 0


async def test_limits_per_address_and_the_reserve_for_wall_displays(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    settings = site(
        tmp_path, rtsp_server, connect_timeout_s=60, max_viewers=8,
        max_per_token=3, max_per_address=4, reserved_for_displays=2,
    )  # fmt: skip
    _, a = await mint(settings, "a")
    _, b = await mint(settings, "b")
    _, c = await mint(settings, "c")
    _, wall = await mint(settings, "wall-main", wall_id="main")
    offer = await crafted_offer()
    async with (
        running_service(settings) as svc,
        client(svc, "127.0.0.1") as one,
        client(svc, "127.0.0.2") as two,
        client(svc, "127.0.0.3") as three,
    ):

        async def post(http: httpx.AsyncClient, secret: str) -> tuple[int, str]:
            r = await http.post(GATE, json={"sdp": offer}, headers=bearer(secret))
            body = r.json()
            assert r.status_code in (200, 429), r.text
            return r.status_code, body.get("error", "") + " " + body.get("message", "")

        for _ in range(3):
            assert (await post(one, a))[0] == 200
        assert (await post(one, b))[0] == 200
        status, why = await post(one, b)  # the address holds 4
        assert status == 429 and why.startswith("too_many_sessions_for_address")
        assert "this client address already holds 4" in why
        assert (await post(two, b))[0] == 200  # another address: admitted
        assert (await post(two, b))[0] == 200  # viewers now hold their 6
        status, why = await post(three, c)
        assert status == 429 and why.startswith("too_many_viewers")
        assert "2 more are reserved for wall displays" in why
        # the wall's display draws on the reserve, from a crowded address too
        assert (await post(one, wall))[0] == 200
        assert (await post(one, wall))[0] == 200
        status, why = await post(one, wall)
        assert status == 429 and why.startswith("live_capacity_full")
        pools = [s["pool"] for s in svc.runtime.relay.sessions()]
        assert pools.count("display") == 2 and pools.count("viewer") == 6


async def test_close_for_token_hangs_up_all_of_its_sessions(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    settings = site(tmp_path, rtsp_server, connect_timeout_s=60)
    revoked_id, revoked = await mint(settings, "revoked")
    _, kept = await mint(settings, "kept")
    offer = await crafted_offer()
    async with running_service(settings) as svc, client(svc) as http:
        for secret in (revoked, revoked, kept):
            r = await http.post(GATE, json={"sdp": offer}, headers=bearer(secret))
            assert r.status_code == 200, r.text
        ts = f"/api/v1/walls/main/panels/0/stream.ts?access_token={revoked}"
        async with http.stream("GET", ts) as stream:
            assert stream.status_code == 200
            chunks = stream.aiter_bytes()
            await anext(chunks)
            assert len(listed(svc)) == 4
            t0 = time.monotonic()
            assert await svc.runtime.relay.close_for_token(revoked_id) == 3
            # the MPEG-TS client's stream ends; only the other token's remains
            async with asyncio.timeout(5):
                async for _ in chunks:
                    pass
            assert time.monotonic() - t0 < 5
        (left,) = svc.runtime.relay.sessions()
        assert left["owner"] == "kept"


BAD_OFFERS = [
    ("hello, this is not an offer", 400, "bad_offer", "the offer is not valid SDP"),
    (
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
        400,
        "bad_offer",
        "no video section in the offer",
    ),
    ("AUDIO", 400, "bad_offer", "no video section in the offer"),
    ("NO_H264", 415, "unsupported_codec", "the offer has no H.264"),
    ("NO_ICE", 400, "bad_offer", "the offer has no ICE credentials"),
    ("NO_FINGERPRINT", 400, "bad_offer", "the offer has no DTLS fingerprint"),
    ("SENDONLY", 400, "bad_offer", "does not receive video (a=sendonly)"),
]


def spoiled(sdp: str, how: str) -> str:
    lines = sdp.split("\r\n")
    if how == "AUDIO":
        return sdp.replace("m=video", "m=audio")
    if how == "NO_H264":
        pts = {ln.split()[0][9:] for ln in lines if " H264/" in ln}
        return "\r\n".join(
            ln
            for ln in lines
            if not any(
                ln.startswith(f"a={k}:{pt}")
                for pt in pts
                for k in ("rtpmap", "fmtp", "rtcp-fb")
            )
            and "apt=" not in ln
        )
    if how == "NO_ICE":
        return "\r\n".join(ln for ln in lines if not ln.startswith("a=ice-"))
    if how == "NO_FINGERPRINT":
        return "\r\n".join(ln for ln in lines if not ln.startswith("a=fingerprint"))
    if how == "SENDONLY":
        return sdp.replace("a=recvonly", "a=sendonly")
    return how


async def test_bad_offers_are_answered_with_what_is_wrong(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    settings = site(tmp_path, rtsp_server)
    pc, good = await real_offer()
    await pc.close()
    async with running_service(settings) as svc, client(svc) as http:
        for how, status, code, words in BAD_OFFERS:
            for path in (GATE, PANEL0):
                r = await http.post(
                    path,
                    json={"sdp": spoiled(good, how)},
                    headers=svc.auth(Role.VIEWER),
                )
                assert r.status_code == status, (how, r.text)
                body = r.json()
                assert body["error"] == code and words in body["message"], how
                assert "not in list" not in body["message"]
        # refused before any camera reader or compositor started
        assert listed(svc) == set() and gate_users(svc) == 0
        assert not svc.runtime.panels.panel("main", 0).running
