// The API client: bearer token from sessionStorage, problem+json errors, and an SSE reader over fetch().

const TOKEN_KEY = 'trainyard.token';
const BASE = '/api/v1';

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
  me: null,
};

/** An error answer of the API, with its RFC 9457 problem when it sent one. */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || 'HTTP ' + status);
    this.status = status;
    this.problem = problem || {title: 'HTTP ' + status};
  }

  get errors() {
    return (this.problem && this.problem.errors) || [];
  }
}

let onUnauthorized = () => {};
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

function headers(extra) {
  const h = {Accept: 'application/json', ...extra};
  const t = session.token();
  if (t) h.Authorization = 'Bearer ' + t;
  return h;
}

async function failure(res) {
  let problem = null;
  const type = res.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try { problem = await res.json(); } catch { problem = null; }
  }
  const err = new ApiError(res.status, problem);
  if (res.status === 401) onUnauthorized(err);
  return err;
}

/** Calls the API; resolves with the parsed JSON (or null for 204), rejects with ApiError. */
export async function call(method, path, body, extraHeaders = {}, signal) {
  const init = {method, headers: headers(extraHeaders), signal};
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, {title: 'The API cannot be reached', detail: String(e.message || e)});
  }
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path, signal) => call('GET', path, undefined, {}, signal);
export const post = (path, body, extra) => call('POST', path, body, extra);
export const patch = (path, body) => call('PATCH', path, body);
export const del = (path) => call('DELETE', path);

/** Query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

/** Downloads a binary body (with the Authorization header) as a Blob. */
export async function blob(path) {
  const res = await fetch(BASE + path, {headers: headers({Accept: 'application/octet-stream'})});
  if (!res.ok) throw await failure(res);
  return res.blob();
}

/**
 * Follows a text/event-stream with fetch() (EventSource cannot send headers). Calls onEvent(name, data) with
 * the parsed JSON data of every event; reconnects with backoff until stop() is called. A reconnection sends the
 * id of the last event handled as Last-Event-ID, so the server resumes right after it: nothing missed, nothing
 * twice. When it cannot (an id it refuses, or a `reload` event), onEvent('reload') tells the page to read again.
 */
export function stream(path, onEvent, onStatus = () => {}) {
  const controller = new AbortController();
  let stopped = false;
  let delay = 1000;
  let lastId = null;

  async function connect() {
    while (!stopped) {
      try {
        const extra = lastId === null ? {} : {'Last-Event-ID': lastId};
        const res = await fetch(BASE + path,
          {headers: headers({Accept: 'text/event-stream', ...extra}), signal: controller.signal});
        if (!res.ok) {
          const err = await failure(res);
          if (res.status === 400 && lastId !== null) {
            // the server cannot resume from this id: start afresh, and let the page read what it shows again
            lastId = null;
            onEvent('reload', {});
            continue;
          }
          if (res.status === 401 || res.status === 403 || res.status === 404) {
            onStatus('closed', err);
            return;
          }
          throw err;
        }
        onStatus('live');
        delay = 1000;
        await readEvents(res.body, onEvent, (id) => (lastId = id));
        if (!stopped) onStatus('reconnecting');
      } catch (e) {
        if (stopped || e.name === 'AbortError') return;
        onStatus('reconnecting', e);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  }

  connect();
  return {
    stop() {
      stopped = true;
      controller.abort();
    },
  };
}

/**
 * Parses the SSE wire format: fields per line, events separated by a blank line, ':' lines are comments. After
 * each event it was handed, onId(id) gets the event's id (the last one sent, as the SSE rules say).
 */
export async function readEvents(body, onEvent, onId = () => {}) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let name = 'message';
  let data = [];
  let id = null;
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += value;
    let nl;
    while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + (buffer[nl] === '\r' && buffer[nl + 1] === '\n' ? 2 : 1));
      if (line === '') {
        if (data.length) dispatch(name, data.join('\n'), onEvent);
        if (id !== null) onId(id);
        name = 'message';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const key = colon < 0 ? line : line.slice(0, colon);
      let val = colon < 0 ? '' : line.slice(colon + 1);
      if (val.startsWith(' ')) val = val.slice(1);
      if (key === 'event') name = val;
      else if (key === 'data') data.push(val);
      else if (key === 'id' && !val.includes('\0')) id = val;
    }
  }
}

function dispatch(name, raw, onEvent) {
  let parsed;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = raw;
  }
  onEvent(name, parsed);
}
