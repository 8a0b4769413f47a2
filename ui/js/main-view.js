// The main window: relink banner, accounts with state badges, calendars with show/hide switches,
// quarantined events, last sync time, "Sync now" and the agenda.

import { $, h, clear, showError, clearError, announce, busy, focusHeading, formError } from './dom.js';
import { invoke } from './ipc.js';
import { store, reload } from './store.js';
import { calendarRow, keepingFocus } from './calendars.js';
import { refreshAgenda } from './agenda.js';
import { ProgressTracker } from './progress.js';
import { relativeTime, fullDateTime, plural } from './format.js';
import { initSubscriptions, subscriptionCard } from './subscriptions.js';

export const STATE_LABELS = {
  active: 'Up to date',
  syncing: 'Syncing',
  backoff: 'Waiting to retry',
  needs_relink: 'Needs relink',
  verifying: 'Verifying',
};

const REASON_TITLES = {
  app_specific_password_required: 'An app-specific password is required',
  password_revoked: 'Apple stopped accepting the password',
  password_rejected: 'Apple rejected the password',
};

let handlers = { openRelink: () => {}, openLink: () => {} };
let bannerAccount = null;
let checksTimer = null;
let tracker = null;
let hideTimer = null;
let manualSync = false;

export function firstSentence(guidance) {
  if (!guidance) return '';
  return String(guidance).split('\n')[0].trim();
}

export function initMain(h0) {
  handlers = { ...handlers, ...h0 };
  tracker = new ProgressTracker($('#sync-progress'), $('#sync-status-text'), null, { milestones: false });
  $('#btn-sync').addEventListener('click', syncNow);
  $('#btn-fix-now').addEventListener('click', () => bannerAccount && handlers.openRelink(bannerAccount));
  $('#btn-try-again').addEventListener('click', tryAgain);
  $('#btn-add-account').addEventListener('click', () => handlers.openLink());
  initSubscriptions(() => reload().then(refreshAgenda));
  setInterval(updateRelativeTimes, 30 * 1000);
}

export function renderMain(state) {
  renderBanner(state);
  renderAccounts(state);
  renderQuarantine(state);
  renderLastSync(state);
  const needs = state.accounts.filter((a) => a.state === 'needs_relink');
  const subs = (state.subscriptions || []).length;
  $('#btn-sync').disabled = manualSync || (!subs && (state.accounts.length === 0 || needs.length === state.accounts.length));
  $('#btn-sync').title = !subs && needs.length && needs.length === state.accounts.length
    ? 'Sync is paused until the account is relinked' : '';
}

function renderBanner(state) {
  const banner = $('#banner-relink');
  const acc = state.accounts.find((a) => a.state === 'needs_relink');
  bannerAccount = acc ? acc.apple_id : null;
  if (!acc) {
    banner.hidden = true;
    formError($('#banner-relink-error'), null);
    return;
  }
  const others = state.accounts.filter((a) => a.state === 'needs_relink').length - 1;
  $('#banner-relink-title').textContent =
    `Sync is paused for ${acc.apple_id}${others > 0 ? ` (and ${plural(others, 'other account', 'other accounts')})` : ''}`;
  const sentence = firstSentence(acc.guidance) || REASON_TITLES[acc.relink_reason] || 'Apple no longer accepts the saved password.';
  $('#banner-relink-text').textContent =
    `${sentence} Your calendars stay available offline; nothing is sent to Apple until you fix it.`;
  renderChecks(acc);
  const wasHidden = banner.hidden;
  banner.hidden = false;
  if (wasHidden) announce(`Sync is paused for ${acc.apple_id}. ${sentence}`);
}

/** Minutes and seconds until `ms`: "14:05". */
function countdown(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * "Try again" asks Apple once with the saved password: say so before the click, with the checks left;
 * when none is left (Apple locks an Apple ID after repeated refusals), disable it and count down to
 * the local time it unlocks.
 */
function renderChecks(acc) {
  clearInterval(checksTimer);
  checksTimer = null;
  const note = $('#banner-relink-checks');
  const btn = $('#btn-try-again');
  const left = acc.password_checks_left ?? 3;
  if (left > 0) {
    btn.disabled = false;
    btn.removeAttribute('aria-describedby');
    note.textContent = `“Try again” checks the saved password with Apple once and uses one of the ${plural(left, 'check', 'checks')} left; after 3 refusals in 15 minutes the next check waits, so Apple does not lock the Apple ID.`;
    return;
  }
  const at = Date.parse(acc.next_password_check_at || '');
  btn.disabled = true;
  btn.setAttribute('aria-describedby', 'banner-relink-checks');
  const clock = Number.isNaN(at) ? '' : new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const tick = () => {
    const ms = at - Date.now();
    if (Number.isNaN(at) || ms <= 0) {
      clearInterval(checksTimer);
      checksTimer = null;
      reload().catch(showError);
      return;
    }
    note.textContent = `Apple refused the password 3 times in 15 minutes. To keep the Apple ID from being locked, “Try again” is possible again at ${clock} (in ${countdown(ms)}). “Fix now” with a new app-specific password also waits until then.`;
  };
  tick();
  checksTimer = setInterval(tick, 1000);
}

function timeNode(prefix, iso, empty) {
  const rel = relativeTime(iso);
  if (!rel) return h('span', { text: empty });
  return h('time', { datetime: iso, title: fullDateTime(iso), dataset: { rel: iso, prefix } }, `${prefix}${rel}`);
}

function updateRelativeTimes() {
  for (const el of document.querySelectorAll('[data-rel]')) {
    const rel = relativeTime(el.dataset.rel);
    if (rel) el.textContent = `${el.dataset.prefix || ''}${rel}`;
  }
}

function renderAccounts(state) {
  keepingFocus($('#account-list'), () => renderAccountList(state));
}

function renderAccountList(state) {
  const list = clear($('#account-list'));
  for (const acc of state.accounts) {
    const badgeState = acc.state in STATE_LABELS ? acc.state : 'active';
    const lines = [];
    if (acc.state === 'backoff' && acc.next_attempt_at) {
      lines.push(h('p', { class: 'small muted' }, timeNode('Next try ', acc.next_attempt_at, '')));
    }
    if (acc.last_error && acc.state !== 'active' && acc.state !== 'needs_relink') {
      lines.push(h('p', { class: 'small account-error', text: acc.last_error }));
    }
    const cals = h('ul', { class: 'calendar-list', 'aria-label': `Calendars of ${acc.apple_id}` });
    for (const cal of acc.calendars) cals.append(calendarRow(acc, cal, () => reload().then(refreshAgenda)));
    if (!acc.calendars.length) cals.append(h('li', { class: 'muted small', text: 'No calendars yet.' }));
    const fix = acc.state === 'needs_relink'
      ? h('button', { type: 'button', class: 'btn btn-primary btn-small', on: { click: () => handlers.openRelink(acc.apple_id) } }, 'Fix now')
      : null;
    list.append(h('li', { class: `account-card state-${badgeState}` },
      h('div', { class: 'account-head' },
        h('span', { class: 'account-id', text: acc.apple_id, title: acc.apple_id }),
        h('p', { class: 'account-status' },
          h('span', { class: `badge badge-${badgeState}` },
            h('span', { class: 'badge-dot', 'aria-hidden': 'true' }),
            STATE_LABELS[badgeState]),
          // A paused account says so (the badge, and the banner says why): "Synced just now" beside
          // "Needs relink" would say the opposite.
          acc.state === 'needs_relink' ? null : h('span', { class: 'small muted account-sync' },
            timeNode('Synced ', acc.last_successful_sync, 'Not synced yet')))),
      ...lines,
      fix,
      cals));
  }
  for (const sub of state.subscriptions || []) list.append(subscriptionCard(sub));
}

function renderQuarantine(state) {
  const section = $('#quarantine');
  const list = clear($('#quarantine-list'));
  const items = state.accounts.flatMap((a) => a.quarantined.map((q) => ({ ...q, apple_id: a.apple_id })))
    .concat((state.subscriptions || []).flatMap((s) => s.quarantined || []));
  section.hidden = items.length === 0;
  for (const q of items) {
    const name = String(q.href || '').split('/').filter(Boolean).pop() || q.href;
    list.append(h('li', { class: 'quarantine-item' },
      h('p', { class: 'quarantine-head' },
        h('span', { class: 'quarantine-calendar', text: q.calendar }),
        h('code', { class: 'quarantine-href', title: q.href, text: name })),
      h('p', { class: 'quarantine-error small', text: q.error })));
  }
}

function renderLastSync(state) {
  const el = clear($('#last-sync'));
  const times = state.accounts.map((a) => a.last_successful_sync)
    .concat((state.subscriptions || []).map((s) => s.last_success)).filter(Boolean).sort();
  const last = times[times.length - 1];
  el.append(last ? timeNode('Last synced ', last, '') : h('span', { text: 'Not synced yet' }));
}

async function syncNow() {
  const accounts = store.state.accounts.filter((a) => a.state !== 'needs_relink');
  const subscriptions = (store.state.subscriptions || []).length > 0;
  if (!accounts.length && !subscriptions) {
    if (bannerAccount) focusHeading($('#banner-relink-title'));
    return;
  }
  clearError();
  formError($('#sync-error'), null);
  manualSync = true;
  const restore = busy($('#btn-sync'), 'Syncing…');
  startStatus();
  tracker.expect(accounts.reduce((n, a) => n + a.calendars.length, 0));
  const messages = [];
  try {
    for (const acc of accounts) {
      try {
        const res = await invoke('sync_now', { appleId: acc.apple_id });
        for (const e of (res && res.errors) || []) if (e && e.message) messages.push(e.message);
      } catch (e) {
        // A pause is said once, by the banner that appears with its "Fix now".
        if (e.code !== 'needs_relink') messages.push(e.message);
      }
    }
    if (subscriptions) {
      // Every account was synced one by one above; the subscriptions are refreshed separately.
      try {
        const res = await invoke('refresh_subscriptions');
        for (const e of (res && res.errors) || []) if (e && e.message) messages.push(e.message);
      } catch (e) {
        messages.push(e.message);
      }
    }
  } finally {
    manualSync = false;
    restore();
    tracker.finish();
    scheduleHide(1200);
  }
  await reload().catch(showError);
  await refreshAgenda();
  if (messages.length) formError($('#sync-error'), [...new Set(messages)].join(' '));
  else announce('Sync finished.');
}

async function tryAgain() {
  if (!bannerAccount) return;
  clearError();
  formError($('#banner-relink-error'), null);
  const appleId = bannerAccount;
  const restore = busy($('#btn-try-again'), 'Trying…');
  try {
    await invoke('retry_auth', { appleId });
    announce('Apple accepted the password. Sync resumed.');
  } catch (e) {
    // The banner already says why sync is paused; say only what this try found.
    if (e.code === 'verification_limit') formError($('#banner-relink-error'), null); // the note counts down
    else {
      formError($('#banner-relink-error'), e.code === 'needs_relink' || e.code === 'rejected'
        ? 'Apple still refuses the saved password. Make a new app-specific password and choose “Fix now”.'
        : e);
    }
  } finally {
    restore();
  }
  await reload().catch(showError);
  refreshAgenda();
}

function startStatus() {
  clearTimeout(hideTimer);
  const box = $('#sync-status');
  if (box.hidden) {
    tracker.reset();
    box.hidden = false;
  }
}

function scheduleHide(ms) {
  clearTimeout(hideTimer);
  hideTimer = setTimeout(() => { $('#sync-status').hidden = true; }, ms);
}

/** Progress of syncs not started by a wizard ("Sync now" or the scheduler). */
export function mainProgress(p) {
  startStatus();
  tracker.handle(p);
  if (!manualSync) {
    // A background pass: there is no "finished" call, so hide after a quiet moment.
    if (p.event === 'calendar_done') refreshAgendaSoon();
    scheduleHide(3000);
  }
}

let agendaTimer = null;
function refreshAgendaSoon() {
  clearTimeout(agendaTimer);
  agendaTimer = setTimeout(refreshAgenda, 600);
}
