// Benchmark probes injected into the live page before its own script runs
// (Playwright add_init_script). Nothing here changes what the page does: it
// only observes timings, WebRTC statistics and displayed frames.
(() => {
  const bench = {
    marks: {},        // name -> performance.now() of the first occurrence
    frames: [],       // barcode readings: one per displayed frame
    unreadable: 0,    // displayed frames whose barcode did not decode
    firstFrame: null, // metadata of the first displayed frame of any video
  };
  window.__bench = bench;
  const mark = (name) => { if (!(name in bench.marks)) bench.marks[name] = performance.now(); };

  // play() starts by creating the peer connection.
  const NativePC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePC {
    constructor(...args) { mark("pc_created"); super(...args); }
  };

  // The SDP offer POST and its answer.
  const nativeFetch = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input.url;
    const isOffer = url.includes("/webrtc") && (init?.method || "GET").toUpperCase() === "POST";
    if (isOffer) mark("offer_post");
    const res = await nativeFetch(input, init);
    if (isOffer) mark("answer_received");
    return res;
  };

  // First displayed frame of every video element the page creates.
  const watch = (video) => {
    if (video.__benchWatched) return;
    video.__benchWatched = true;
    video.requestVideoFrameCallback((now, md) => {
      mark("first_frame_callback");
      if (bench.firstFrame === null) {
        bench.firstFrame = {
          now,
          expectedDisplayTime: md.expectedDisplayTime,
          presentationTime: md.presentationTime,
          receiveTime: md.receiveTime ?? null,
          width: md.width,
          height: md.height,
        };
      }
    });
  };
  new MutationObserver((records) => {
    for (const r of records) {
      for (const node of r.addedNodes) {
        if (node instanceof HTMLVideoElement) watch(node);
        else if (node.querySelectorAll) node.querySelectorAll("video").forEach(watch);
      }
    }
  }).observe(document, { childList: true, subtree: true });

  // WebRTC receive statistics and playback quality of every tile.
  bench.tileStats = async () => {
    const out = {};
    for (const [id, tile] of window.citywall?.tiles ?? []) {
      const row = { state: tile.state, session: tile.session, width: tile.video.videoWidth,
                    framesDecoded: 0, framesDropped: 0, bytesReceived: 0, pliCount: 0,
                    packetsLost: 0, jitterBufferDelay: 0, jitterBufferEmittedCount: 0 };
      if (tile.pc) {
        const stats = await tile.pc.getStats();
        stats.forEach((s) => {
          if (s.type !== "inbound-rtp" || s.kind !== "video") return;
          row.framesDecoded = s.framesDecoded ?? 0;
          row.framesDropped = s.framesDropped ?? 0;
          row.bytesReceived = s.bytesReceived ?? 0;
          row.pliCount = s.pliCount ?? 0;
          row.packetsLost = s.packetsLost ?? 0;
          row.jitterBufferDelay = s.jitterBufferDelay ?? 0;
          row.jitterBufferEmittedCount = s.jitterBufferEmittedCount ?? 0;
        });
      }
      const q = tile.video.getVideoPlaybackQuality();
      row.totalVideoFrames = q.totalVideoFrames;
      row.droppedVideoFrames = q.droppedVideoFrames;
      out[id] = row;
    }
    return out;
  };

  // Hang up every tile's session on the server (the page itself does not).
  bench.hangUp = async (token) => {
    for (const tile of window.citywall?.tiles?.values() ?? []) {
      if (tile.session) {
        await nativeFetch(`/api/v1/webrtc/${tile.session}`,
          { method: "DELETE", headers: { Authorization: `Bearer ${token}` } });
      }
      tile.pc?.close();
    }
  };

  // --- barcode reader: a port of tests/support/barcode.py ------------------
  const REF_W = 1280, REF_H = 720, CELL = 48, CELLS = 16, OX = 32, OY = 32;
  const SAMPLE_FRACTION = 0.5, MIN_CONTRAST = 64;
  const SYNC_Y = OY, DATA_Y = OY + CELL;

  // luma: Float32Array of width*height (region of the frame from its origin)
  function cellMeans(luma, stride, rowY, sx, sy) {
    const margin = (CELL * (1 - SAMPLE_FRACTION)) / 2;
    const means = [];
    for (let i = 0; i < CELLS; i++) {
      const x0 = OX + i * CELL;
      const xa = Math.round((x0 + margin) * sx);
      const xb = Math.max(xa + 1, Math.round((x0 + CELL - margin) * sx));
      const ya = Math.round((rowY + margin) * sy);
      const yb = Math.max(ya + 1, Math.round((rowY + CELL - margin) * sy));
      let sum = 0;
      for (let y = ya; y < yb; y++) for (let x = xa; x < xb; x++) sum += luma[y * stride + x];
      means.push(sum / ((yb - ya) * (xb - xa)));
    }
    return means;
  }

  // rgba: ImageData.data of the region [0, right) x [0, bottom) of a
  // width x height frame. Returns the frame number or null.
  function readBarcode(rgba, right, bottom, width, height) {
    if (width < REF_W / 8 || height < REF_H / 8) return null;
    const sx = width / REF_W, sy = height / REF_H;
    const luma = new Float32Array(right * bottom);
    for (let p = 0, q = 0; p < luma.length; p++, q += 4) luma[p] = (rgba[q] + rgba[q + 1] + rgba[q + 2]) / 3;
    const sync = cellMeans(luma, right, SYNC_Y, sx, sy);
    const whites = sync.filter((_, i) => i % 2 === 0), blacks = sync.filter((_, i) => i % 2 === 1);
    const white = whites.reduce((a, b) => a + b, 0) / whites.length;
    const black = blacks.reduce((a, b) => a + b, 0) / blacks.length;
    const contrast = white - black;
    if (contrast < MIN_CONTRAST) return null;
    const threshold = (white + black) / 2, margin = contrast / 4;
    if (Math.min(...whites) < threshold + margin || Math.max(...blacks) > threshold - margin) return null;
    let number = 0;
    const data = cellMeans(luma, right, DATA_Y, sx, sy);
    for (let i = 0; i < CELLS; i++) {
      if (Math.abs(data[i] - threshold) < margin) return null;
      if (data[i] > threshold) number |= 1 << i;
    }
    return number;
  }
  bench.readBarcode = readBarcode;

  // Read the barcode of every frame a video displays.
  bench.startBarcode = (video) => {
    const canvas = document.createElement("canvas");
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const origin = performance.timeOrigin;
    const onFrame = (now, md) => {
      const w = md.width, h = md.height;
      const right = Math.min(w, Math.round((OX + CELLS * CELL) * w / REF_W) + 1);
      const bottom = Math.min(h, Math.round((DATA_Y + CELL) * h / REF_H) + 1);
      if (canvas.width !== right || canvas.height !== bottom) { canvas.width = right; canvas.height = bottom; }
      ctx.drawImage(video, 0, 0, right, bottom, 0, 0, right, bottom);
      const n = readBarcode(ctx.getImageData(0, 0, right, bottom).data, right, bottom, w, h);
      if (n === null) bench.unreadable++;
      else bench.frames.push({
        n,
        display_ms: origin + md.expectedDisplayTime,
        presentation_ms: origin + md.presentationTime,
        receive_ms: md.receiveTime != null ? origin + md.receiveTime : null,
        callback_ms: origin + now,
        presented: md.presentedFrames,
      });
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };

  // Browser clock vs the wall clock (both ms since the epoch).
  bench.clockOffsetMs = () => Date.now() - (performance.timeOrigin + performance.now());
})();
