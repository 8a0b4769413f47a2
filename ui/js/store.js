// The app state as the backend reports it (`get_state`), plus change subscribers.

import { invoke } from './ipc.js';

export const store = {
  state: { accounts: [], subscriptions: [], demo: false, policy: {}, settings: {} },
  loaded: false,
};

const subscribers = new Set();

export function subscribe(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

let inFlight = null;

/** Reloads the state from the backend (coalescing concurrent calls) and notifies subscribers. */
export function reload() {
  if (inFlight) return inFlight;
  inFlight = invoke('get_state')
    .then((s) => {
      store.state = normalise(s);
      store.loaded = true;
      for (const fn of subscribers) {
        try { fn(store.state); } catch (e) { console.error(e); }
      }
      return store.state;
    })
    .finally(() => { inFlight = null; });
  return inFlight;
}

function normalise(s) {
  const st = s || {};
  return {
    accounts: Array.isArray(st.accounts) ? st.accounts.map((a) => ({
      ...a,
      calendars: Array.isArray(a.calendars) ? a.calendars : [],
      quarantined: Array.isArray(a.quarantined) ? a.quarantined : [],
    })) : [],
    // Subscriptions to published calendars: read-only, no password, no account.
    subscriptions: Array.isArray(st.subscriptions) ? st.subscriptions : [],
    demo: !!st.demo,
    policy: st.policy || {},
    settings: st.settings || {},
    // Demo only: the password the simulator accepts now (shown in the demo's relink wizard).
    demoPassword: st.demoPassword || st.demo_password || null,
    // Demo only: the simulator's public calendar link, to try subscribing.
    demoPublishedLink: st.demoPublishedLink || st.demo_published_link || null,
    // The account a notification's "Fix now" asked to relink; the backend hands it out once.
    pendingRelink: st.pendingRelink || st.pending_relink || null,
    defaultServerUrl: st.defaultServerUrl || st.default_server_url || null,
    version: st.version || null,
    // Changes when what the calendar views show may have changed (not on a sync that changed nothing).
    eventsVersion: st.eventsVersion ?? st.events_version,
  };
}

export function account(appleId) {
  return store.state.accounts.find((a) => a.apple_id === appleId) || null;
}

/** Total cached events (resources) of an account. */
export function eventCount(acc) {
  return (acc ? acc.calendars : []).reduce((n, c) => n + (Number(c.event_count) || 0), 0);
}

const POLICY_KEYS = {
  syncIntervalMinutes: ['sync_interval_minutes', 'syncIntervalMinutes'],
  startAtLogin: ['start_at_login', 'startAtLogin'],
  notifications: ['notifications'],
  serverUrl: ['server_url', 'serverUrl'],
  allowDemo: ['allow_demo', 'allowDemo'],
  appleIdHint: ['apple_id_hint', 'appleIdHint'],
};

function rawPolicy(name) {
  const p = store.state.policy || {};
  for (const k of POLICY_KEYS[name] || [name]) {
    if (p[k] !== undefined && p[k] !== null) return p[k];
  }
  return undefined;
}

/**
 * The policy value for a setting, or undefined when the setting is not locked. The backend lists
 * the locked keys (camelCase) in `policy.locked`; without that list, any value present is a lock.
 */
export function policyValue(name) {
  const p = store.state.policy || {};
  if (Array.isArray(p.locked)) return p.locked.includes(name) ? rawPolicy(name) : undefined;
  return rawPolicy(name);
}
