// The only place that talks to the Tauri backend. Every failure becomes `{code, message}` with a
// message written for people, so screens can show it as it is.

function tauri() {
  const t = window.__TAURI__;
  if (!t || !t.core || !t.event) {
    throw { code: 'no_backend', message: 'Calendar Connector’s background service is not available. Restart the app.' };
  }
  return t;
}

/** Normalises whatever a rejected invoke carries into `{code, message}`. */
export function toError(e) {
  if (e && typeof e === 'object' && typeof e.message === 'string' && e.message) {
    return { code: typeof e.code === 'string' ? e.code : 'error', message: e.message };
  }
  if (typeof e === 'string' && e) return { code: 'error', message: e };
  return { code: 'error', message: 'Something went wrong. Please try again.' };
}

/** Calls a backend command; rejects with `{code, message}`. */
export async function invoke(cmd, args = {}) {
  try {
    return await tauri().core.invoke(cmd, args);
  } catch (e) {
    throw toError(e);
  }
}

/** Subscribes to a backend event; resolves to an unlisten function. */
export async function listen(name, cb) {
  return tauri().event.listen(name, (ev) => cb(ev && 'payload' in ev ? ev.payload : ev));
}
