// Work that may wait until the frame showing a layout switch has been drawn
// (e.g. WebRTC negotiation), so the switch is on screen at once.
const queue = [];

function flush() {
  for (const fn of queue.splice(0)) { try { fn(); } catch (err) { console.error(err); } }
}

/** Runs `fn` after the next frame has been painted. */
export function afterPaint(fn) {
  queue.push(fn);
  if (queue.length === 1) requestAnimationFrame(() => setTimeout(flush, 0));
}
