// The access token of this browser tab: from the URL fragment (#token=…, for
// kiosk screens) or the login form, kept in session storage.
const STORAGE_KEY = "citywall.token";

// Takes the token out of the address: it would otherwise log straight back in
// after "log out" (a reload reads it again), and stay in the history and in
// any bookmark or screenshot of the address bar. Other fragment keys stay.
function takeFromFragment() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (!fragment.has("token")) return null;
  const token = fragment.get("token");
  fragment.delete("token");
  const rest = fragment.toString();
  history.replaceState(history.state, "", `${location.pathname}${location.search}${rest ? `#${rest}` : ""}`);
  return token;
}

/** The token from the fragment (remembered, then removed from the URL) or from an earlier login, else null. */
export function loadToken() {
  const fromFragment = takeFromFragment();
  if (fromFragment) sessionStorage.setItem(STORAGE_KEY, fromFragment);
  return fromFragment || sessionStorage.getItem(STORAGE_KEY);
}

/** Remembers a token typed into the login form. */
export function saveToken(token) { sessionStorage.setItem(STORAGE_KEY, token); }

/** Forgets the token (log out). */
export function clearToken() { sessionStorage.removeItem(STORAGE_KEY); }
