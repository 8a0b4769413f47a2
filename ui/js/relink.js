// The relink wizard: the reason in connector's words (the same guidance as the notification), the
// steps, paste, one verification, then "Reconnected — nothing was lost" with the event counts.

import { $, h, clear, showScreen, showPanel, showError, clearError, busy, announce, currentScreen, formError, fieldError } from './dom.js';
import { invoke } from './ipc.js';
import { store, reload, account, eventCount } from './store.js';
import { attachPasswordCheck, hidePassword, isAppleServer } from './password.js';
import { ProgressTracker, progressBus } from './progress.js';
import { openApple } from './link.js';
import { count, plural } from './format.js';

let handlers = { done: () => {}, cancel: () => {} };
let tracker;
let pw;
let current = null; // apple id
let verifying = false;
let before = 0;

/** Set by the demo when the simulator reports the password it now accepts. */
export const demoHint = { password: null };

export function initRelink(h0) {
  handlers = { ...handlers, ...h0 };
  tracker = new ProgressTracker($('#relink-progress'), $('#relink-progress-detail'));
  pw = attachPasswordCheck($('#relink-password'), $('#relink-password-hint'),
    // The demo's simulator plays iCloud, so it gets iCloud's advice.
    () => store.state.demo || isAppleServer((account(current) || {}).server_url || 'https://caldav.icloud.com/'));
  $('#relink-form').addEventListener('submit', (e) => { e.preventDefault(); verify(); });
  $('#btn-relink-open-apple').addEventListener('click', () => openApple($('#relink-error')));
  $('#btn-relink-cancel').addEventListener('click', () => { if (!verifying) handlers.cancel(); });
  $('#btn-relink-finish').addEventListener('click', () => handlers.done(current));
}

export function isVerifying() {
  return verifying;
}

/** Splits connector's guidance into the sentence, the numbered steps and the notes. */
export function splitGuidance(text) {
  const lines = String(text || '').split('\n').map((l) => l.trim()).filter(Boolean);
  const out = { sentence: '', steps: [], notes: [] };
  for (const line of lines) {
    const m = /^(\d+)\.\s+(.*)$/.exec(line);
    if (m) out.steps.push(m[2]);
    else if (!out.sentence && out.steps.length === 0) out.sentence = line;
    else out.notes.push(line);
  }
  return out;
}

async function guidanceFor(acc) {
  if (acc.guidance) return acc.guidance;
  const reason = acc.relink_reason || 'password_rejected';
  try {
    const g = await invoke('guidance', { reason });
    if (typeof g === 'string' && g) {
      // Without a recorded reason, keep the steps but not a sentence that may not apply.
      return acc.relink_reason ? g : `Paste a new app-specific password to replace the one saved for ${acc.apple_id}.\n${g.split('\n').slice(1).join('\n')}`;
    }
  } catch { /* fall through */ }
  return `Paste a new app-specific password to replace the one saved for ${acc.apple_id}.`;
}

// Makes the account.apple.com address in a step a real (allow-listed) action, keeping the words.
function stepNode(text) {
  const url = 'https://account.apple.com';
  const i = text.indexOf(url);
  if (i < 0) return h('li', { text });
  const link = h('a', { href: url, class: 'inline-link', on: { click: (e) => { e.preventDefault(); openApple($('#relink-error')); } } }, url);
  return h('li', {}, text.slice(0, i), link, text.slice(i + url.length));
}

let opening = null; // the account an open is under way for (it awaits the state first)

export async function openRelink(appleId) {
  if (verifying) return;
  // Already open for this account, on any step: keep it as it is. A second open arrives for one
  // "Fix now" (the window created for it reads the request at load and is told again 0.8 s later,
  // later still on a busy machine), and for a later click on the notification. Resetting would
  // erase a pasted password just before "Verify", or, after a quick relink, turn "Reconnected" back
  // into an empty form (the races behind the desktop relink tests' occasional time-outs; a quick
  // person meets them too).
  if (currentScreen() === 'relink-wizard' && (!appleId || appleId === current)) {
    if (!$('#relink-step-form').hidden) $('#relink-password').focus();
    return;
  }
  if (opening !== null && (!appleId || appleId === opening)) return;
  opening = appleId || '';
  try {
    await openRelinkNow(appleId);
  } finally {
    opening = null;
  }
}

async function openRelinkNow(appleId) {
  clearError();
  await reload().catch(() => {});
  const acc = account(appleId) || store.state.accounts.find((a) => a.state === 'needs_relink');
  if (!acc) {
    showError(`There is no linked account ${appleId || ''} to reconnect.`.replace('  ', ' '));
    handlers.cancel();
    return;
  }
  current = acc.apple_id;
  before = eventCount(acc);
  pw.reset();
  hidePassword($('#relink-password'));
  formError($('#relink-error'), null);
  $('#relink-verify-status').textContent = '';
  $('#relink-title').textContent = 'Reconnect your iCloud calendars';
  $('#relink-account').textContent = `Account: ${acc.apple_id}`;

  const g = splitGuidance(await guidanceFor(acc));
  $('#relink-reason').textContent = g.sentence;
  const steps = clear($('#relink-steps'));
  for (const s of g.steps) steps.append(stepNode(s));
  const notes = clear($('#relink-notes'));
  for (const n of g.notes) notes.append(h('p', { class: 'help', text: n }));

  const hint = $('#relink-demo-hint');
  clear(hint);
  const demoPw = store.state.demo ? (demoHint.password || store.state.demoPassword) : null;
  hint.hidden = !demoPw;
  if (!hint.hidden) {
    hint.append(
      h('strong', { text: 'Demo: ' }),
      'the simulator now accepts ', h('code', { text: demoPw }), '. ',
      h('button', { type: 'button', class: 'btn btn-quiet btn-small', on: { click: () => {
        const input = $('#relink-password');
        input.value = demoPw;
        input.dispatchEvent(new Event('input'));
        input.focus();
      } } }, 'Paste it for me'));
  }
  showScreen('relink-wizard');
  showPanel($('#relink-step-form'), $('#relink-title'));
}

async function verify() {
  if (verifying || !current) return;
  clearError();
  formError($('#relink-error'), null);
  const input = $('#relink-password');
  if (!input.value.trim()) {
    fieldError(input, $('#relink-password-hint'), isAppleServer((account(current) || {}).server_url || '')
      ? 'Paste the new app-specific password you made at account.apple.com.'
      : 'Enter the new password for this server.');
    return;
  }
  await pw.normalizeNow();
  const password = input.value;
  let held = false;
  verifying = true;
  const restore = busy($('#btn-relink-verify'), 'Verifying…');
  $('#btn-relink-cancel').disabled = true;
  $('#relink-verify-status').textContent = 'Checking with Apple…';
  tracker.reset();
  tracker.expect((account(current) || { calendars: [] }).calendars.length);
  let syncing = false;
  progressBus.sink = (p) => {
    if (!syncing) {
      syncing = true;
      showPanel($('#relink-step-sync'), $('#relink-sync-title'));
    }
    tracker.handle(p);
  };
  try {
    const report = await invoke('relink_account', { appleId: current, password });
    input.value = '';
    tracker.finish();
    await reload().catch(showError);
    showDone(report);
  } catch (e) {
    if ($('#relink-step-form').hidden) showPanel($('#relink-step-form'), input);
    $('#relink-verify-status').textContent = '';
    input.focus({ preventScroll: true });
    input.select();
    formError($('#relink-error'), e);
    await reload().catch(() => {});
    held = !!(e && e.code === 'verification_limit');
  } finally {
    verifying = false;
    progressBus.sink = null;
    restore();
    $('#btn-relink-cancel').disabled = false;
  }
  if (held) holdVerifyUntilAllowed();
}

/**
 * After 3 refusals in 15 minutes the next check waits (so Apple does not lock the Apple ID): keep
 * "Verify" disabled until the account's next allowed check, in the person's local time.
 */
function holdVerifyUntilAllowed() {
  const acc = account(current);
  const at = Date.parse((acc && acc.next_password_check_at) || '');
  if (Number.isNaN(at) || at <= Date.now()) return;
  const btn = $('#btn-relink-verify');
  btn.disabled = true;
  btn.title = `Possible again at ${new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
  setTimeout(() => {
    btn.disabled = false;
    btn.title = '';
  }, at - Date.now() + 500);
}

function showDone(report) {
  const after = eventCount(account(current));
  $('#event-count-before').textContent = count(before);
  $('#event-count-after').textContent = count(after);
  const cals = (report && Array.isArray(report.calendars)) ? report.calendars : [];
  const fetched = cals.reduce((n, c) => n + (Number((Array.isArray(c) ? c[1] : c || {}).fetched) || 0), 0);
  const parts = [];
  parts.push(fetched === 0
    ? 'Nothing had to be downloaded again.'
    : `${plural(fetched, 'changed event was', 'changed events were')} downloaded.`);
  if (report && Number.isFinite(report.requests)) parts.push(`${plural(report.requests, 'request', 'requests')} to the server.`);
  $('#relink-done-detail').textContent = parts.join(' ');
  $('#relink-done-lead').textContent = after === before
    ? `Sync resumed where it stopped for ${current}. Every cached event was kept.`
    : `Sync resumed where it stopped for ${current}. Your cached events were kept; the count changed only by what changed on the server.`;
  showPanel($('#relink-done'), $('#relink-done-title'));
  announce('Reconnected — nothing was lost.');
  demoHint.password = null;
}
