// The one reconnect loop of every socket a page keeps open (the event bus and
// the wall display feed): a closed socket is opened again after a delay that
// doubles up to a ceiling and starts over once the server has said something
// (a server that accepts and closes at once, e.g. an unknown wall, backs off).
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 15000;
// Close codes after which a retry cannot help: bad token, not allowed.
const FINAL_CLOSE_CODES = new Set([4401, 4403]);

// Spread the retries of many displays (one page per panel) that lost the server together.
const jittered = (ms) => ms * (0.75 + Math.random() * 0.5);

/**
 * Keeps a JSON WebSocket open. `url()` is read at every attempt.
 * Handlers: open(), message(msg), close(event) (after every close, also the final one).
 * Returns { send(msg) -> bool (false while closed), reopen() (now, e.g. for a new viewport) }.
 */
export function keepOpen(url, handlers = {}) {
  let socket = null, timer = null, delay = FIRST_DELAY_MS;
  const open = () => {
    const ws = new WebSocket(url());
    socket = ws;
    ws.onopen = () => handlers.open?.();
    ws.onmessage = (ev) => { delay = FIRST_DELAY_MS; handlers.message?.(JSON.parse(ev.data)); };
    ws.onclose = (ev) => {
      if (socket !== ws) return;  // replaced on purpose (reopen)
      socket = null;
      handlers.close?.(ev);
      if (FINAL_CLOSE_CODES.has(ev.code)) return;
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
      clearTimeout(timer);
      const old = socket;
      open();  // the old socket's close is then ignored: it is no longer the socket
      old?.close();
    },
  };
}
