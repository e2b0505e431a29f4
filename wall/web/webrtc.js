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

// Ends the server's side of a session (the relay stops sending at once).
function hangUp(sessionId, token) {
  fetch(`/api/v1/webrtc/${encodeURIComponent(sessionId)}`,
    { method: "DELETE", headers: { Authorization: `Bearer ${token}` }, keepalive: true }).catch(() => {});
}

// Offers to the service; resolves to its answer (session_id, sdp, stream, codec).
async function negotiate(pc, cameraId, { token, stream, tileWidth, tileHeight }) {
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
  if (!res.ok) throw apiError(res, answer);
  return answer;
}

/**
 * Starts playing `cameraId` into `video`. Resolves to a handle with close();
 * rejects with an ApiError (`code`: unsupported_codec, camera_offline, too_many_viewers…),
 * or the browser's TypeError / DOMException; nothing is left open then.
 */
export async function startLiveView(video, cameraId, { token, stream = "auto", tileWidth, tileHeight } = {}) {
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.ontrack = (ev) => { video.srcObject = ev.streams[0] || new MediaStream([ev.track]); };
  let answer = null;
  try {
    answer = await negotiate(pc, cameraId, { token, stream, tileWidth, tileHeight });
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  } catch (err) {
    pc.close();
    if (answer?.session_id) hangUp(answer.session_id, token);
    throw err;
  }
  let closed = false;
  return {
    pc, sessionId: answer.session_id, stream: answer.stream, codec: answer.codec,
    close() {
      if (closed) return;
      closed = true;
      pc.close();
      video.srcObject = null;
      hangUp(answer.session_id, token);
    },
  };
}
