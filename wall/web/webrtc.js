// WebRTC live view of one camera: offer -> POST /api/v1/cameras/{id}/webrtc -> answer.
// Shared by the live page and the wall page's camera and tour tiles.
import { apiError } from "/static/api.js";

async function gathered(pc, timeoutMs = 1000) {
  // Non-trickle: the service answers once, so send the offer with its host candidates.
  if (pc.iceGatheringState === "complete") return;
  await new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, timeoutMs);
  });
}

/**
 * Starts playing `cameraId` into `video`. Resolves to a handle with close();
 * rejects with an ApiError (`code`: unsupported_codec, camera_offline, too_many_viewers…).
 */
export async function startLiveView(video, cameraId, { token, stream = "auto", tileWidth, tileHeight } = {}) {
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.ontrack = (ev) => { video.srcObject = ev.streams[0] || new MediaStream([ev.track]); };
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const body = { sdp: pc.localDescription.sdp, type: "offer", stream };
  if (tileWidth && tileHeight) { body.tile_width = Math.round(tileWidth); body.tile_height = Math.round(tileHeight); }
  const res = await fetch(`/api/v1/cameras/${encodeURIComponent(cameraId)}/webrtc`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) {
    pc.close();
    throw apiError(res, answer);
  }
  await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  let closed = false;
  return {
    pc, sessionId: answer.session_id, stream: answer.stream, codec: answer.codec,
    close() {
      if (closed) return;
      closed = true;
      pc.close();
      video.srcObject = null;
      fetch(`/api/v1/webrtc/${answer.session_id}`, { method: "DELETE", headers: { Authorization: `Bearer ${token}` }, keepalive: true }).catch(() => {});
    },
  };
}
