// Settings / Users: calls to the /api endpoints, with the session cookie and the anti-forgery token in
// the X-CSRF-TOKEN header (or the header the session names).

/** The signed-in session: the anti-forgery token and its header, and the user (null when signed out). */
export const state = {
  csrf: null,
  csrfHeader: 'X-CSRF-TOKEN',
  user: null,
};

/** What to do when a call finds the session ended (a 401): the page sets it to going back to the sign-in form. */
let endSession = () => {};

export function onSessionEnded(handler) {
  endSession = handler;
}

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || (status ? `The server answered ${status}.` : 'The server could not be reached.'));
    this.status = status;
    this.problem = problem || null;
  }
}

/** Thrown after a 401: the page has already gone back to the sign-in form. */
export class SessionEnded extends Error {}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.csrf) headers[state.csrfHeader] = state.csrf;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
    });
  } catch {
    throw new ApiError(0, { detail: 'The server could not be reached. Check the connection and try again.' });
  }
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await response.json().catch(() => null) : null;
  if (response.ok) return data;
  throw new ApiError(response.status, data);
}

/** A call made with the session: a 401 sends the user to the sign-in form; a stale anti-forgery token is renewed once. */
export async function call(method, path, body) {
  try {
    return await api(method, path, body);
  } catch (error) {
    if (error.status === 401) {
      endSession();
      throw new SessionEnded();
    }
    if (error.status === 403 && error.problem && error.problem.reason === 'antiforgery_token_invalid') {
      const session = await api('GET', '/api/session');
      applySession(session);
      if (!session.user) {
        endSession();
        throw new SessionEnded();
      }
      return api(method, path, body);
    }
    throw error;
  }
}

export function applySession(session) {
  state.csrf = session.antiforgery_token;
  state.csrfHeader = session.antiforgery_header || 'X-CSRF-TOKEN';
  state.user = session.user;
}
