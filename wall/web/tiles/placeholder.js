// The honest placeholder a tile shows instead of content it cannot show (yet).

/** A placeholder element with a main `text` and a smaller `detail` line. */
export function placeholder(text, detail = "") {
  const el = document.createElement("div");
  el.className = "placeholder";
  const main = document.createElement("span"), small = document.createElement("small");
  main.textContent = text;
  small.textContent = detail;
  el.append(main, small);
  return el;
}

/** A tile view that only shows a placeholder. */
export function placeholderView(text, detail = "") {
  return { el: placeholder(text, detail), close() {} };
}
