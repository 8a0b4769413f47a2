// DEVELOPMENT ONLY. A stand-in for `window.__TAURI__` so the pages can be opened in a browser with
// `?mock` (app.js imports this file only then, and only when no real Tauri is present).
//
//   ?mock                 no account: the welcome screen
//   ?mock=demo            the demo account linked, agenda visible
//   ?mock=relink          the demo account needs a relink (banner)
//   ?mock=linked          a "real" iCloud account, with a quarantined event
//   &policy               locked settings (interval, notifications, server URL)
//   &fast                 no artificial delays
//
// `window.__mock` exposes `emit(name, payload)` and the state, to drive screens by hand.

const params = new URLSearchParams(location.search);
const scenario = params.get('mock') || '';
const FAST = params.has('fast');
const wait = (ms) => new Promise((r) => setTimeout(r, FAST ? 0 : ms));

// Connector's words (crates/connector/src/relink.rs), copied so the mock reads like the app.
const SENTENCES = {
  app_specific_password_required: 'Apple requires an app-specific password for calendar apps; the password saved here is not one.',
  password_revoked: 'Apple stopped accepting the app-specific password that used to work — most often because the Apple ID password was changed or reset, which revokes every app-specific password.',
  password_rejected: 'Apple rejected this app-specific password — check that it was copied completely and that the Apple ID is right.',
};
const STEPS = '1. Open https://account.apple.com and sign in with your Apple ID.\n'
  + '2. Choose Sign-In and Security, then App-Specific Passwords.\n'
  + '3. Generate a new password, label it "Calendar Connector", and copy it (Apple shows it only once). It looks like abcd-efgh-ijkl-mnop: 16 lowercase letters in four groups.\n'
  + '4. Paste it under "Paste the new password" and choose Verify and reconnect.\n'
  + 'App-specific passwords need two-factor authentication on the Apple ID. Changing or resetting the Apple ID password revokes every app-specific password.\n'
  + 'Nothing cached is lost: your calendars stay available offline and sync resumes where it stopped.';
const guidance = (reason) => `${SENTENCES[reason]}\n${STEPS}`;

function normalize(input) {
  const t = String(input).trim();
  const letters = t.toLowerCase().replace(/[- ]/g, '');
  return /^[a-z]{16}$/.test(letters) ? letters.match(/.{4}/g).join('-') : t;
}
const looksLikeAsp = (s) => /^[a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4}$/.test(s);

const listeners = new Map();
function emit(name, payload) {
  for (const cb of listeners.get(name) || []) cb({ event: name, id: 0, payload });
}

const DEMO_CALENDARS = [
  { id: '/123/calendars/home/', display_name: 'Home', color: '#34C759FF', count: 38 },
  { id: '/123/calendars/work/', display_name: 'Work', color: '#0A84FFFF', count: 112 },
  { id: '/123/calendars/family/', display_name: 'Family (shared)', color: '#FF9F0AFF', count: 17, read_only: true },
];

const mock = {
  accounts: [],
  subscriptions: [],
  demo: false,
  revoked: false,
  acceptedPassword: 'abcd-efgh-ijkl-mnop',
  settings: { syncIntervalMinutes: 15, startAtLogin: false, notifications: true },
  // The shape src-tauri's PolicyView serialises to.
  policy: params.has('policy')
    ? { path: '/etc/calendar-connector/policy.toml', locked: ['serverUrl', 'syncIntervalMinutes', 'notifications'], serverUrl: 'https://caldav.icloud.com/', syncIntervalMinutes: 30, allowDemo: true, notifications: true, appleIdHint: null }
    : { path: '/etc/calendar-connector/policy.toml', locked: [], serverUrl: null, syncIntervalMinutes: null, allowDemo: true, notifications: null, appleIdHint: null },
  pendingRelink: params.has('pending') ? 'demo@icloud-sim.invalid' : null,
};

function makeAccount(appleId, serverUrl, demo) {
  return {
    apple_id: appleId,
    server_url: serverUrl,
    state: 'active',
    icloud_app_specific_password_required: false,
    relink_reason: null,
    guidance: null,
    last_successful_sync: new Date(Date.now() - 2 * 60 * 1000).toISOString(),
    last_error: null,
    next_attempt_at: null,
    calendars: DEMO_CALENDARS.map((c) => ({
      id: c.id, display_name: c.display_name, color: c.color, event_count: c.count,
      read_only: !!c.read_only, hidden: false,
    })),
    quarantined: demo ? [] : [{
      calendar: 'Work', href: '/123/calendars/work/7F3A-broken-event.ics',
      error: 'DTSTART is missing: the event cannot be placed in time',
    }],
  };
}

function setRelink(acc, reason) {
  acc.state = 'needs_relink';
  acc.icloud_app_specific_password_required = true;
  acc.relink_reason = reason;
  acc.guidance = guidance(reason);
  acc.last_error = 'Apple rejected the password (401)';
}

if (scenario === 'demo' || scenario === 'relink') {
  mock.demo = true;
  mock.accounts.push(makeAccount('demo@icloud-sim.invalid', 'http://127.0.0.1:48213/', true));
  if (scenario === 'relink') {
    mock.revoked = true;
    mock.acceptedPassword = 'wxyz-qrst-uvmn-opkl';
    setRelink(mock.accounts[0], 'password_revoked');
  }
} else if (scenario === 'linked') {
  mock.accounts.push(makeAccount('jane.appleseed@icloud.com', 'https://caldav.icloud.com/', false));
}

// Events around today, in the shapes `events` returns.
function pad(n) { return String(n).padStart(2, '0'); }
function dateStr(d) { return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; }
function localRfc(d) {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${dateStr(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}:00${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}
function at(dayOffset, h, m = 0) {
  const d = new Date();
  d.setHours(h, m, 0, 0);
  d.setDate(d.getDate() + dayOffset);
  return d;
}
function day(dayOffset) {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() + dayOffset);
  return d;
}

function allEvents() {
  const out = [];
  const ev = (calendar, uid, summary, start, end, extra = {}) => out.push({
    calendar, uid, summary, start, end, all_day: false, location: null, recurrence_id: null,
    href: `/123/calendars/${calendar.toLowerCase()}/${uid}.ics`, ...extra,
  });
  // A weekly stand-up on weekdays, expanded (recurrence_id set).
  for (let i = 0; i < 14; i += 1) {
    const d = day(i);
    if (d.getDay() === 0 || d.getDay() === 6) continue;
    const s = at(i, 9, 30);
    ev('Work', 'standup-1', 'Team stand-up', localRfc(s), localRfc(at(i, 9, 45)), { recurrence_id: localRfc(s), location: 'Room 4.12' });
  }
  ev('Home', 'birthday-ana', 'Ana’s birthday', dateStr(day(0)), dateStr(day(1)), { all_day: true });
  ev('Work', 'review-q3', 'Quarterly review', localRfc(at(0, 14)), localRfc(at(0, 15, 30)), { location: 'Main conference room' });
  ev('Family (shared)', 'dinner', 'Dinner with the Müllers', localRfc(at(0, 19)), localRfc(at(0, 21)), { location: 'Trattoria Roma' });
  ev('Work', 'ny-call', 'Call with New York office', `${dateStr(day(1))}T17:00:00-05:00`, `${dateStr(day(1))}T17:30:00-05:00`);
  ev('Home', 'dentist', 'Dentist', localRfc(at(1, 8)), localRfc(at(1, 8, 45)));
  ev('Family (shared)', 'trip', 'Weekend in the mountains', dateStr(day(3)), dateStr(day(6)), { all_day: true, location: 'Chamonix' });
  ev('Work', 'offsite', 'Team offsite', dateStr(day(4)), dateStr(day(5)), { all_day: true });
  ev('Home', 'flight', 'Night flight to Lisbon', localRfc(at(8, 22, 15)), localRfc(at(9, 1, 5)), { location: 'Gate B22' });
  ev('Work', 'untitled', '', localRfc(at(10, 11)), localRfc(at(10, 11, 30)));
  for (let i = 0; i < 14; i += 7) {
    const s = at(i + 2, 18);
    ev('Home', 'yoga', 'Yoga', localRfc(s), localRfc(at(i + 2, 19)), { recurrence_id: localRfc(s) });
  }
  return out;
}

function account(appleId) {
  const a = mock.accounts.find((x) => x.apple_id === appleId);
  if (!a) throw { code: 'not_found', message: `There is no linked account ${appleId}.` };
  return a;
}

async function runSync(acc, { unchanged = false } = {}) {
  acc.state = 'syncing';
  emit('state-changed', {});
  const reports = [];
  for (const cal of acc.calendars) {
    const total = unchanged ? 0 : cal.event_count;
    emit('sync-progress', { event: 'calendar_started', calendar: cal.display_name, to_fetch: total });
    for (let done = 0; done < total;) {
      await wait(120);
      done = Math.min(total, done + Math.max(8, Math.ceil(total / 6)));
      emit('sync-progress', { event: 'fetched', calendar: cal.display_name, done, total });
    }
    await wait(150);
    const report = { fetched: total, deleted: 0, quarantined: 0, missing: 0, full_listing: !unchanged, unchanged };
    emit('sync-progress', { event: 'calendar_done', calendar: cal.display_name, report });
    reports.push([cal.display_name, report]);
  }
  acc.state = 'active';
  acc.last_successful_sync = new Date().toISOString();
  emit('state-changed', {});
  return reports;
}

const commands = {
  async get_state() {
    const pendingRelink = mock.pendingRelink;
    mock.pendingRelink = null; // handed out once, like the backend
    return {
      accounts: structuredClone(mock.accounts), subscriptions: structuredClone(mock.subscriptions), demo: mock.demo, demoPassword: mock.demo ? mock.acceptedPassword : null,
      policy: mock.policy, settings: { ...mock.settings }, pendingRelink, defaultServerUrl: 'https://caldav.icloud.com/', version: 'mock',
    };
  },
  async check_password({ input }) {
    const normalized = normalize(input);
    return { normalized, looksLikeAsp: looksLikeAsp(normalized) };
  },
  async link_account({ appleId, password, serverUrl }) {
    await wait(900);
    const pw = normalize(password);
    if (pw === 'wrong-wrong-wrong' || pw.startsWith('x')) {
      throw { code: 'needs_relink', message: SENTENCES.password_rejected };
    }
    if (!looksLikeAsp(pw) && !/ok/i.test(pw)) {
      throw { code: 'needs_relink', message: SENTENCES.app_specific_password_required };
    }
    const acc = makeAccount(appleId, serverUrl, false);
    acc.last_successful_sync = null;
    mock.accounts.push(acc);
    await runSync(acc);
    return { apple_id: appleId, calendars: acc.calendars.map((c) => c.display_name), looks_like_app_specific_password: looksLikeAsp(pw) };
  },
  async start_demo() {
    await wait(500);
    mock.demo = true;
    const acc = makeAccount('demo@icloud-sim.invalid', 'http://127.0.0.1:48213/', true);
    acc.last_successful_sync = null;
    mock.accounts = [acc];
    await runSync(acc);
    return { apple_id: acc.apple_id, calendars: acc.calendars.map((c) => c.display_name), looks_like_app_specific_password: true };
  },
  async sync_now({ appleId }) {
    const acc = account(appleId);
    if (acc.state === 'needs_relink') {
      throw { code: 'needs_relink', message: `Sync is paused for ${appleId}: ${SENTENCES[acc.relink_reason]}` };
    }
    if (mock.revoked) {
      await wait(300);
      setRelink(acc, 'password_revoked');
      emit('state-changed', {});
      return { reports: [], errors: [{ code: 'needs_relink', message: SENTENCES.password_revoked }] };
    }
    const reports = await runSync(acc, { unchanged: true });
    return { reports: [{ apple_id: appleId, calendars: reports, requests: acc.calendars.length + 1 }], errors: [] };
  },
  async relink_account({ appleId, password }) {
    const acc = account(appleId);
    await wait(800);
    const pw = normalize(password);
    if (mock.demo ? pw !== mock.acceptedPassword : !looksLikeAsp(pw)) {
      throw { code: 'needs_relink', message: SENTENCES.password_rejected };
    }
    mock.revoked = false;
    acc.state = 'active';
    acc.icloud_app_specific_password_required = false;
    acc.relink_reason = null;
    acc.guidance = null;
    acc.last_error = null;
    const calendars = await runSync(acc, { unchanged: true });
    return { apple_id: appleId, calendars, requests: acc.calendars.length + 1 };
  },
  async retry_auth({ appleId }) {
    account(appleId);
    await wait(600);
    if (mock.revoked) throw { code: 'needs_relink', message: `Apple still rejects the saved password. ${SENTENCES.password_revoked}` };
    return null;
  },
  async events() {
    return allEvents();
  },
  async set_calendar_hidden({ appleId, calendarId, hidden }) {
    const cal = account(appleId).calendars.find((c) => c.id === calendarId);
    if (cal) cal.hidden = hidden;
    return null;
  },
  async guidance({ reason }) {
    return guidance(reason);
  },
  async get_settings() { return { ...mock.settings }; },
  async set_settings(s) {
    Object.assign(mock.settings, s);
    return { ...mock.settings };
  },
  async export_calendars({ format, dir }) {
    await wait(400);
    const out = dir || '/home/you/Documents/Calendar Connector export';
    if (!out.startsWith('/')) throw { code: 'io', message: `Could not create ${out}: use an absolute path.` };
    const objects = mock.accounts.flatMap((a) => a.calendars).reduce((n, c) => n + c.event_count, 0);
    return { dir: out, files: format === 'ics' ? 3 : objects, objects };
  },
  async save_diagnostics({ path }) {
    await wait(400);
    return path || '/home/you/Downloads/calendar-connector-diagnostics.zip';
  },
  // The browser has no system file chooser: a prompt stands in for it (empty = cancelled).
  async choose_export_folder() {
    const dir = window.prompt('Folder for the export', '/home/you/Documents');
    return dir ? `${dir.replace(/\/$/, '')}/Calendar Connector export` : null;
  },
  async choose_diagnostics_file() {
    return window.prompt('Save diagnostics as', '/home/you/Downloads/calendar-connector-diagnostics.zip') || null;
  },
  async show_in_folder() {
    return null;
  },
  async unlink_account({ appleId }) {
    mock.accounts = mock.accounts.filter((a) => a.apple_id !== appleId);
    if (!mock.accounts.length) mock.demo = false;
    emit('state-changed', {});
    return null;
  },
  async simulate_revocation() {
    mock.revoked = true;
    mock.acceptedPassword = 'wxyz-qrst-uvmn-opkl';
    const acc = mock.accounts[0];
    const res = await commands.sync_now({ appleId: acc.apple_id });
    return { appleId: acc.apple_id, newPassword: mock.acceptedPassword, syncError: res.errors[0] || null };
  },
  async open_apple_account() {
    console.info('[mock] would open https://account.apple.com');
    return null;
  },
  // Subscriptions: the same recognition rule as connector::published, a fixed feed.
  async classify_link({ input }) {
    const s = String(input || '').trim();
    const published = /^(webcals?|https?):\/\/[^/]+\/published\/./i.test(s);
    const partition = /^(https?:\/\/)?p\d+-caldav\.icloud\.com(\.cn)?([:/]|$)/i.test(s);
    return { published, discoveryStart: !published && partition ? 'https://caldav.icloud.com/' : null };
  },
  async subscribe_calendar({ url, name }) {
    await wait(500);
    const link = String(url).replace(/^webcal:/i, 'https:');
    if (mock.subscriptions.some((s) => s.url === link)) throw { code: 'usage', message: 'you are already subscribed to this calendar as "Team holidays"' };
    const now = new Date().toISOString();
    mock.subscriptions.push({ url: link, display_name: name || 'Team holidays', color: '#FF2968', event_count: 3, read_only: true, hidden: false, last_refresh: now, last_success: now, last_error: null, quarantined: [] });
    emit('state-changed', {});
    return { url: link, name: name || 'Team holidays', events: 3, fetched: 3, deleted: 0, quarantined: 0, unchanged: false };
  },
  async unsubscribe_calendar({ url }) {
    const s = mock.subscriptions.find((x) => x.url === url);
    mock.subscriptions = mock.subscriptions.filter((x) => x.url !== url);
    emit('state-changed', {});
    return s ? s.display_name : url;
  },
  async set_subscription_hidden({ url, hidden }) {
    const s = mock.subscriptions.find((x) => x.url === url);
    if (s) s.hidden = hidden;
    return null;
  },
  async refresh_subscriptions() {
    const reports = mock.subscriptions.map((s) => ({ url: s.url, name: s.display_name, events: s.event_count, fetched: 0, deleted: 0, quarantined: 0, unchanged: true }));
    return { reports, errors: [] };
  },
};

window.__TAURI__ = {
  core: {
    async invoke(cmd, args = {}) {
      const fn = commands[cmd];
      if (!fn) throw { code: 'unknown_command', message: `The mock does not know ${cmd}.` };
      return fn(args);
    },
  },
  event: {
    async listen(name, cb) {
      if (!listeners.has(name)) listeners.set(name, new Set());
      listeners.get(name).add(cb);
      return () => listeners.get(name).delete(cb);
    },
  },
};

window.__mock = { emit, state: mock, guidance };
document.documentElement.dataset.mock = scenario || 'welcome';
