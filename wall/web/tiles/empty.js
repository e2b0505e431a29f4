// Empty tiles: nothing to draw.

/** An empty element. */
export function create() {
  return { el: document.createElement("div"), close() {} };
}
