// The access token of this browser tab: from the URL fragment (#token=…, for
// kiosk screens) or the login form, kept in session storage.
const STORAGE_KEY = "citywall.token";

/** The token from the fragment (remembered) or from an earlier login, else null. */
export function loadToken() {
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromFragment) sessionStorage.setItem(STORAGE_KEY, fromFragment);
  return fromFragment || sessionStorage.getItem(STORAGE_KEY);
}

/** Remembers a token typed into the login form. */
export function saveToken(token) { sessionStorage.setItem(STORAGE_KEY, token); }

/** Forgets the token (log out). */
export function clearToken() { sessionStorage.removeItem(STORAGE_KEY); }
