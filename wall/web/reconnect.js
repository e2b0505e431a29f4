// The one reconnect loop of every socket a page keeps open (the event bus and
// the wall display feed): a closed socket is opened again after a delay that
// doubles up to a ceiling and starts over once the server has said something
// (a server that accepts and closes at once backs off).
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 15000;
// Close codes after which a retry cannot help, and the API error code each
// stands for (wall/api/sockets.py, wall/api/walls.py): bad token, not allowed
// (e.g. a display token bound to another wall), no such wall or panel.
const FINAL_CLOSES = { 4401: "unauthorized", 4403: "forbidden", 4404: "wall_not_found" };

// Spread the retries of many displays (one page per panel) that lost the server together.
const jittered = (ms) => ms * (0.75 + Math.random() * 0.5);

/** The API error code of a final close event (the socket stays closed), else null. */
export const finalCloseCode = (ev) => FINAL_CLOSES[ev.code] ?? null;

/**
 * Keeps a JSON WebSocket open. `url()` is read at every attempt.
 * Handlers: open(), message(msg), close(event) (after every close, also the final one).
 * Returns { send(msg) -> bool (false while closed), reopen() (now, e.g. for a new
 * viewport), close() (for good: no retry, no close handler) }.
 */
export function keepOpen(url, handlers = {}) {
  let socket = null, timer = null, delay = FIRST_DELAY_MS, stopped = false;
  const open = () => {
    const ws = new WebSocket(url());
    socket = ws;
    ws.onopen = () => handlers.open?.();
    ws.onmessage = (ev) => { delay = FIRST_DELAY_MS; handlers.message?.(JSON.parse(ev.data)); };
    ws.onclose = (ev) => {
      if (socket !== ws) return;  // replaced on purpose (reopen) or closed for good
      socket = null;
      handlers.close?.(ev);
      if (finalCloseCode(ev)) return;
      timer = setTimeout(open, jittered(delay));
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    };
  };
  open();
  return {
    send(msg) {
      if (socket?.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(msg));
      return true;
    },
    reopen() {
      if (stopped) return;
      clearTimeout(timer);
      const old = socket;
      open();  // the old socket's close is then ignored: it is no longer the socket
      old?.close(1000);
    },
    close() {
      stopped = true;
      clearTimeout(timer);
      const old = socket;
      socket = null;  // its close event is then ignored
      old?.close(1000);
    },
  };
}
