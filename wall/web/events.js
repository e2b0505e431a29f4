// The page's one event-bus socket (/api/v1/ws): every consumer on the page
// names a topic (``alarm.*`` prefixes allowed) and gets its events; the socket
// subscribes to the union of their topics and reconnects through keepOpen.
import { wsUrl } from "/static/api.js";
import { keepOpen } from "/static/reconnect.js";

// The bus's own rule: an exact name, or a prefix ending in ".*".
const matches = (pattern, topic) => pattern === topic || (pattern.endsWith(".*") && topic.startsWith(pattern.slice(0, -1)));

// One consumer's bug must not keep the event (or the readiness) from the others.
function guarded(topic, fn) {
  try { fn(); } catch (err) { console.error(`a ${topic} consumer failed`, err); }
}

/**
 * An event client for `token`. `onClose(event)` sees every close (e.g. 4401: bad token).
 * Returns { on(topic, onEvent, onReady) -> off(), close() }: onEvent(data, topic) for each
 * event; onReady() once the server confirms the topic after each (re)connection, the moment
 * to fetch a snapshot that the events then keep current; close() ends the client for good.
 */
export function eventClient(token, { onClose } = {}) {
  const consumers = new Set();
  let socket = null, connection = 0, sent = "", live = new Set(), stopped = false;
  const topics = () => [...new Set([...consumers].map((c) => c.topic))].sort();
  const subscribe = () => {
    const list = topics();
    if (!list.length || list.join() === sent) return;  // the server takes no empty list
    if (!socket.send({ type: "subscribe", topics: list })) return;
    sent = list.join();
    live = new Set([...live].filter((topic) => list.includes(topic)));  // dropped topics end now
  };
  const confirmed = (list) => {
    live = new Set(list);
    for (const c of consumers) {
      if (c.readyIn === connection || !list.includes(c.topic)) continue;
      c.readyIn = connection;
      guarded(c.topic, () => c.onReady?.());
    }
  };
  const dispatch = (ev) => {
    for (const c of [...consumers]) if (matches(c.topic, ev.topic)) guarded(ev.topic, () => c.onEvent(ev.data, ev.topic));
  };
  const connect = () => keepOpen(() => wsUrl("/api/v1/ws", token), {
    open() { connection++; sent = ""; live = new Set(); subscribe(); },
    message(msg) {
      if (msg.type === "subscribed") confirmed(msg.topics);
      else if (msg.type === "event") dispatch(msg);
    },
    close: onClose,
  });
  return {
    on(topic, onEvent, onReady) {
      if (stopped) return () => {};
      const consumer = { topic, onEvent, onReady, readyIn: -1 };
      consumers.add(consumer);
      socket ??= connect();
      if (live.has(topic)) confirmed([...live]);  // already subscribed: ready now
      else subscribe();
      return () => { consumers.delete(consumer); subscribe(); };
    },
    close() {
      stopped = true;
      socket?.close();
      consumers.clear();
    },
  };
}
