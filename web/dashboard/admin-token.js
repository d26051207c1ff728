// The admin token in the page (docs/observability.md "Tokens in the page"). When the admin port asks
// for a token (401, or 403: a token that cannot read client locations), the page shows a panel; the
// operator pastes the token once. It is kept in sessionStorage (this tab and this origin only, gone
// when the tab closes) and sent in an Authorization header on every request, the event stream
// included (read with fetch, since an EventSource cannot send headers). It never goes into a URL, so
// no access log, proxy log or browser history holds it.

const STORAGE_KEY = 'herd-admin-token';

/** The admin port refused the request: 401 (no valid token) or 403 (cannot read locations). */
export class AuthError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The headers that carry the token, if one was given. */
export function authHeaders() {
  const token = sessionStorage.getItem(STORAGE_KEY);
  return token === null || token === '' ? {} : { Authorization: `Bearer ${token}` };
}

/**
 * fetch() with the token and without caching.
 *
 * @throws {AuthError} on 401 or 403.
 */
export async function authFetch(url, init = {}) {
  const response = await fetch(url, { cache: 'no-store', ...init, headers: { ...authHeaders(), ...init.headers } });
  if (response.status === 401 || response.status === 403) {
    const text = (await response.text()).trim();
    throw new AuthError(response.status, response.status === 401 ? 'this admin port needs a token' : text);
  }
  return response;
}

let asking;

/**
 * Shows the token panel with `message` and resolves once the operator gave a token (stored for
 * this tab). Callers at the same time share one panel.
 */
export function askForToken(message) {
  asking ??= new Promise((resolve) => {
    const panel = document.getElementById('token-panel');
    const input = document.getElementById('token');
    const submit = document.getElementById('token-submit');
    document.getElementById('token-message').textContent = message;
    panel.hidden = false;
    document.documentElement.dataset.auth = 'needed';
    input.value = '';
    input.focus();
    const done = () => {
      const token = input.value.trim();
      if (token === '') return;
      sessionStorage.setItem(STORAGE_KEY, token);
      input.value = '';
      panel.hidden = true;
      document.documentElement.dataset.auth = 'given';
      submit.removeEventListener('click', done);
      input.removeEventListener('keydown', onKey);
      asking = undefined;
      resolve();
    };
    const onKey = (event) => {
      if (event.key === 'Enter') done();
    };
    submit.addEventListener('click', done);
    input.addEventListener('keydown', onKey);
  });
  return asking;
}

/** Runs `load` until it does not fail for want of a token, asking for one each time it does. */
export async function withToken(load) {
  for (;;) {
    try {
      return await load();
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      await askForToken(error.message);
    }
  }
}
