// The link wizard (Apple ID → app-specific password → first sync) and the demo start, which shares
// its sync step. A public calendar link pasted in the Apple ID or server field is recognised as it is
// typed and offers a subscription (read-only, no password) instead; an iCloud partition host in the
// server field says where sign-in really starts.

import { $, h, clear, showScreen, showPanel, showError, clearError, busy, announce, formError, fieldError, clearFieldError } from './dom.js';
import { invoke } from './ipc.js';
import { store, reload, policyValue, account } from './store.js';
import { attachPasswordCheck, hidePassword, isAppleServer } from './password.js';
import { ProgressTracker, progressBus } from './progress.js';
import { calendarRow } from './calendars.js';
import { plural } from './format.js';

const DEFAULT_SERVER = 'https://caldav.icloud.com/';

let handlers = { done: () => {}, cancel: () => {} };
let tracker;
let pw;
let verifying = false;
let linkedId = null;
let pastedPublished = null;
let classifySeq = 0;

export function initLink(h0) {
  handlers = { ...handlers, ...h0 };
  tracker = new ProgressTracker($('#progress'), $('#progress-detail'), $('#link-sync-calendars'));
  pw = attachPasswordCheck($('#password'), $('#password-hint'), () => isAppleServer(serverUrl()));
  $('#link-form').addEventListener('submit', (e) => { e.preventDefault(); verify(); });
  $('#btn-open-apple').addEventListener('click', () => openApple($('#link-error')));
  $('#btn-link-cancel').addEventListener('click', () => { if (!verifying) handlers.cancel(); });
  $('#btn-link-finish').addEventListener('click', () => handlers.done(linkedId));
  $('#server-url').addEventListener('input', () => pw.refresh());
  $('#server-url').addEventListener('input', classifyPasted);
  $('#apple-id').addEventListener('input', classifyPasted);
  $('#btn-subscribe').addEventListener('click', subscribeNow);
}

/** Asks the engine what was pasted (no request leaves the computer) and shows the matching hint. */
async function classifyPasted() {
  const seq = ++classifySeq;
  const fromId = $('#apple-id').value.trim();
  const server = $('#server-url');
  const fromServer = server.disabled ? '' : (server.value || '').trim();
  let published = null;
  let discovery = null;
  for (const input of [fromId, fromServer]) {
    if (!input) continue;
    try {
      const r = await invoke('classify_link', { input });
      if (seq !== classifySeq) return; // a newer keystroke is being checked
      if (r.published && !published) published = input;
      if (input === fromServer && r.discoveryStart) discovery = r.discoveryStart;
    } catch {
      // Only a hint: without it the form works as before.
    }
  }
  showPublishedHint(published);
  $('#link-form').classList.toggle('from-id', !!published && published === fromId);
  const d = $('#server-url-discovery');
  d.hidden = !discovery;
  d.textContent = discovery
    ? `This is one of iCloud’s calendar servers. Sign-in starts at ${discovery} and finds your calendars from there.`
    : '';
}

function showPublishedHint(link) {
  pastedPublished = link;
  $('#published-hint').hidden = !link;
  // A public calendar needs no password: the password steps and "Verify" step aside.
  $('#link-form').classList.toggle('is-published', !!link);
  $('#published-hint-url').textContent = link || '';
  formError($('#subscribe-error'), null);
  if (link) clearFieldError($('#apple-id'), $('#apple-id-help'));
}

/** Subscribes to the pasted public calendar, then opens the main window where it is listed. */
async function subscribeNow() {
  if (verifying) return;
  // What the fields hold now, not what the last keystroke's check found.
  await classifyPasted();
  if (!pastedPublished) return;
  clearError();
  formError($('#subscribe-error'), null);
  verifying = true;
  const restore = busy($('#btn-subscribe'), 'Subscribing…');
  try {
    const r = await invoke('subscribe_calendar', { url: pastedPublished });
    if ($('#apple-id').value.trim() === pastedPublished) $('#apple-id').value = '';
    const server = $('#server-url');
    if (!server.disabled && server.value.trim() === pastedPublished) server.value = store.state.defaultServerUrl || DEFAULT_SERVER;
    showPublishedHint(null);
    await reload().catch(showError);
    announce(`Subscribed to ${r.name}: ${plural(Number(r.events) || 0, 'event', 'events')}, read-only.`);
    handlers.done(null);
  } catch (e) {
    formError($('#subscribe-error'), e);
  } finally {
    verifying = false;
    restore();
  }
}

function serverUrl() {
  return ($('#server-url').value || '').trim() || DEFAULT_SERVER;
}

/** Opens account.apple.com; a failure is said in `slot` (the error line of the form with the button). */
export async function openApple(slot) {
  try {
    await invoke('open_apple_account');
    announce('account.apple.com opened in your browser.');
  } catch (e) {
    if (slot instanceof HTMLElement) formError(slot, e); else showError(e);
  }
}

function setStep(n) {
  for (const li of document.querySelectorAll('#link-wizard .wizard-steps li')) {
    const s = Number(li.dataset.step);
    li.classList.toggle('is-done', s < n);
    if (s === n) li.setAttribute('aria-current', 'step'); else li.removeAttribute('aria-current');
  }
}

function applyPolicy() {
  const url = $('#server-url');
  const locked = policyValue('serverUrl');
  const details = $('#advanced');
  if (locked !== undefined) {
    url.value = String(locked);
    url.disabled = true;
    $('#server-url-locked').hidden = false;
    $('#server-url-help').hidden = true;
    url.setAttribute('aria-describedby', 'server-url-locked');
    details.hidden = false;
    details.open = true;
  } else {
    url.disabled = false;
    $('#server-url-locked').hidden = true;
    $('#server-url-help').hidden = false;
    url.setAttribute('aria-describedby', 'server-url-help');
    url.value = store.state.defaultServerUrl || DEFAULT_SERVER;
  }
  const hint = policyValue('appleIdHint');
  const id = $('#apple-id');
  if (hint !== undefined && !id.value) {
    if (String(hint).startsWith('@')) id.placeholder = `name${hint}`;
    else id.value = String(hint);
  }
}

export function openLinkWizard() {
  clearError();
  verifying = false;
  linkedId = null;
  pw.reset();
  hidePassword($('#password'));
  formError($('#link-error'), null);
  formError($('#link-sync-error'), null);
  clearFieldError($('#apple-id'), $('#apple-id-help'));
  $('#link-verify-status').textContent = '';
  $('#btn-verify').disabled = false;
  $('#btn-link-cancel').hidden = false;
  applyPolicy();
  showPublishedHint(null);
  $('#server-url-discovery').hidden = true;
  classifyPasted();
  pw.reset();
  $('#link-wizard').dataset.mode = 'link';
  setStep(1);
  showScreen('link-wizard');
  showPanel($('#link-step-credentials'), $('#link-title'));
}

function showSyncStep(title, lead) {
  $('#progress-label').textContent = 'Downloading events';
  $('#link-sync-title').textContent = title;
  $('#link-sync-lead').textContent = lead;
  $('#link-done-panel').hidden = true;
  setStep(3);
  showPanel($('#link-step-sync'), $('#link-sync-title'));
}

async function verify() {
  if (verifying) return; // one request only
  if (pastedPublished) {
    // "Verify" on a public calendar link: it needs no password, so subscribe.
    await subscribeNow();
    return;
  }
  clearError();
  formError($('#link-error'), null);
  const appleIdEl = $('#apple-id');
  const pwEl = $('#password');
  const appleId = appleIdEl.value.trim();
  const apple = isAppleServer(serverUrl());
  if (!appleId) {
    fieldError(appleIdEl, $('#apple-id-help'), apple
      ? 'Enter your Apple ID — the email address you use for iCloud.'
      : 'Enter the user name you sign in to this server with.');
    return;
  }
  if (!pwEl.value.trim()) {
    fieldError(pwEl, $('#password-hint'), apple
      ? 'Paste the app-specific password you made at account.apple.com.'
      : 'Enter the password for this server.');
    return;
  }
  await pw.normalizeNow();
  const password = pwEl.value;
  const url = serverUrl();

  verifying = true;
  const restore = busy($('#btn-verify'), 'Verifying…');
  $('#btn-link-cancel').disabled = true;
  $('#link-verify-status').textContent = 'Checking with Apple…';
  setStep(2);
  tracker.reset();
  let syncing = false;
  progressBus.sink = (p) => {
    if (!syncing) {
      syncing = true;
      showSyncStep('Syncing your calendars', 'Apple accepted the password. Downloading your events — large calendars can take a minute.');
      // The calendars were stored before the first sync started: their count makes the bar steady.
      reload().then(() => { const a = account(appleId); if (a) tracker.expect(a.calendars.length); }).catch(() => {});
    }
    tracker.handle(p);
  };
  try {
    const report = await invoke('link_account', { appleId, password, serverUrl: url });
    pwEl.value = '';
    if (!syncing) showSyncStep('Syncing your calendars', 'Apple accepted the password.');
    await finished(report, false);
  } catch (e) {
    const linked = await reload().then(() => account(appleId)).catch(() => null);
    if (syncing && linked) {
      // Linked, but the first sync stopped: the account exists; say so and let the person continue.
      pwEl.value = '';
      await finished({ apple_id: appleId, calendars: [], looks_like_app_specific_password: true }, false);
      formError($('#link-sync-error'), e);
    } else {
      setStep(1);
      // Back on the form (if the sync step had appeared) without moving focus or scroll to the top:
      // the error goes beside the button that was pressed.
      if ($('#link-step-credentials').hidden) showPanel($('#link-step-credentials'), $('#password'));
      $('#link-verify-status').textContent = '';
      pwEl.focus({ preventScroll: true });
      pwEl.select();
      formError($('#link-error'), e);
    }
  } finally {
    verifying = false;
    progressBus.sink = null;
    restore();
    $('#btn-link-cancel').disabled = false;
  }
}

export async function startDemo() {
  clearError();
  const btn = $('#btn-demo');
  if (btn.disabled) return;
  const restore = busy(btn, 'Starting…');
  tracker.reset();
  $('#link-wizard').dataset.mode = 'demo';
  showScreen('link-wizard');
  showSyncStep('Starting the demo', 'The built-in simulator plays iCloud on this computer. Linking the demo account and downloading its calendars…');
  let asked = false;
  progressBus.sink = (p) => {
    if (!asked) {
      asked = true;
      reload().then((st) => { if (st.accounts.length === 1) tracker.expect(st.accounts[0].calendars.length); }).catch(() => {});
    }
    tracker.handle(p);
  };
  formError($('#welcome-error'), null);
  try {
    const report = await invoke('start_demo');
    await finished(report, true);
  } catch (e) {
    showScreen('welcome');
    formError($('#welcome-error'), e);
  } finally {
    progressBus.sink = null;
    restore();
  }
}

async function finished(report, demo) {
  tracker.finish();
  linkedId = (report && report.apple_id) || null;
  await reload().catch(showError);
  const acc = linkedId ? account(linkedId) : store.state.accounts[0];
  if (acc) linkedId = acc.apple_id;
  const n = acc ? acc.calendars.length : ((report && report.calendars) || []).length;
  $('#progress-label').textContent = 'Downloaded';
  $('#link-sync-title').textContent = demo ? 'The demo is ready' : 'All set';
  $('#link-sync-lead').textContent = `${plural(n, 'calendar', 'calendars')} linked${acc ? ` for ${acc.apple_id}` : ''}. They keep syncing in the background.`;
  $('#link-asp-warning').hidden = !(report && report.looks_like_app_specific_password === false)
    || !isAppleServer(acc ? acc.server_url : '');
  const list = clear($('#link-calendar-choice'));
  if (acc) for (const cal of acc.calendars) list.append(calendarRow(acc, cal, () => reload()));
  else for (const name of (report && report.calendars) || []) list.append(h('li', { class: 'calendar-row', text: name }));
  $('#link-done-panel').hidden = false;
  showPanel($('#link-step-sync'), $('#link-sync-title'));
}
