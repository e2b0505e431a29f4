"""Which of a camera's streams a viewer gets, opened until its first keyframe."""

from __future__ import annotations

from devices.cameras.camera import Camera, CameraStream
from devices.cameras.config import StreamRole
from devices.cameras.packets import VideoCodec
from devices.cameras.subscriber import PacketSubscriber
from layouts.content import StreamPref as StreamPreference
from layouts.streams import choose_stream
from wall.live.errors import LiveViewError, UnsupportedCodec


def stream_role(
    camera: Camera,
    preference: StreamPreference = StreamPreference.AUTO,
    tile_wh: tuple[int, int] | None = None,
) -> StreamRole:
    """The stream a viewer of ``camera`` gets for a tile (behaviour S4).

    Uses the sub stream's measured resolution once it has been opened.
    """
    has_sub = StreamRole.SUB in camera.streams
    sub_info = camera.streams[StreamRole.SUB].info if has_sub else None
    wh = sub_info.resolution_wh if sub_info else None
    return StreamRole(choose_stream(preference, has_sub, tile_wh, wh))


async def open_stream(
    camera: Camera, role: StreamRole, keyframe_timeout_s: float
) -> tuple[CameraStream, PacketSubscriber]:
    """Subscribe to a stream once it has a keyframe.

    Raises:
        LiveViewError: no keyframe within ``keyframe_timeout_s``.
    """
    stream = camera.stream(role)
    sub = stream.subscribe(name=f"viewer {camera.id}")
    if not await stream.wait_keyframe(keyframe_timeout_s):
        stream.unsubscribe(sub)
        health = stream.health()
        reason = health.reason.value if health.reason else health.state.value
        raise LiveViewError(
            f"camera_{health.state.value}",
            f"camera {camera.id} has no picture ({reason})",
        )
    return stream, sub


async def open_h264(
    camera: Camera, role: StreamRole, keyframe_timeout_s: float
) -> tuple[CameraStream, PacketSubscriber, str | None]:
    """The camera's H.264 stream ``role``, else its other one (behaviour S3).

    Returns the stream, a subscriber the caller must release, and the
    stream's ``profile-level-id``.

    Raises:
        LiveViewError: no picture. UnsupportedCodec: no H.264 stream.
    """
    roles = [role, *(r for r in camera.streams if r is not role)]
    info = None
    for candidate in roles:
        stream, sub = await open_stream(camera, candidate, keyframe_timeout_s)
        info = stream.info
        if info is not None and info.codec is VideoCodec.H264:
            return stream, sub, info.profile_level_id
        stream.unsubscribe(sub)
    codec = getattr(info, "codec_name", "unknown")
    raise UnsupportedCodec(
        "unsupported_codec",
        f"camera {camera.id} sends {codec}; browsers need H.264 "
        "(configure an H.264 sub stream for this camera)",
    )
