// Settings: sync interval, start at login, notifications (locked ones disabled, "Set by your
// organisation"), export, diagnostics, unlink with confirmation, the subscriptions with Remove….

import { $, h, clear, showScreen, showError, clearError, busy, announce, formError } from './dom.js';
import { invoke } from './ipc.js';
import { store, reload, policyValue } from './store.js';
import { STATE_LABELS } from './main-view.js';
import { plural } from './format.js';
import { confirmUnsubscribe } from './subscriptions.js';

let handlers = { back: () => {}, unlinked: () => {} };
let pendingUnlink = null;

const FIELDS = [
  { key: 'syncIntervalMinutes', el: '#sync-interval', lock: '#sync-interval-locked', kind: 'number' },
  { key: 'startAtLogin', el: '#start-at-login', lock: '#start-at-login-locked', kind: 'bool' },
  { key: 'notifications', el: '#notifications', lock: '#notifications-locked', kind: 'bool' },
];

export function initSettings(h0) {
  handlers = { ...handlers, ...h0 };
  for (const f of FIELDS) $(f.el).addEventListener('change', save);
  $('#settings-form').addEventListener('submit', (e) => e.preventDefault());
  $('#export-form').addEventListener('submit', (e) => { e.preventDefault(); exportCalendars(); });
  $('#diagnostics-form').addEventListener('submit', (e) => { e.preventDefault(); saveDiagnostics(); });
  $('#btn-settings-back').addEventListener('click', () => handlers.back());
  $('#btn-export-show').addEventListener('click', () => showInFolder('#btn-export-show', '#export-status'));
  $('#btn-diagnostics-show').addEventListener('click', () => showInFolder('#btn-diagnostics-show', '#diagnostics-status'));
  const dlg = $('#confirm-unlink');
  dlg.addEventListener('close', () => {
    if (dlg.returnValue === 'confirm' && pendingUnlink) unlink(pendingUnlink);
    pendingUnlink = null;
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !$('#settings').hidden && !dlg.open) handlers.back();
  });
}

export async function openSettings() {
  clearError();
  $('#settings-status').textContent = '';
  showScreen('settings');
  renderSettings(store.state);
  try {
    const s = await invoke('get_settings');
    if (s) renderSettings({ ...store.state, settings: s });
  } catch (e) {
    showError(e);
  }
}

function ensureOption(select, value) {
  const v = String(value);
  if (![...select.options].some((o) => o.value === v)) {
    const n = Number(value);
    const label = n % 60 === 0 && n >= 60 ? plural(n / 60, 'hour', 'hours') : plural(n, 'minute', 'minutes');
    const opt = h('option', { value: v, text: label });
    const after = [...select.options].find((o) => Number(o.value) > n);
    select.insertBefore(opt, after || null);
  }
}

export function renderSettings(state) {
  const settings = state.settings || {};
  for (const f of FIELDS) {
    const el = $(f.el);
    const locked = policyValue(f.key);
    const value = locked !== undefined ? locked : settings[f.key];
    if (f.kind === 'number') {
      if (value !== undefined && value !== null) {
        ensureOption(el, value);
        el.value = String(value);
      }
    } else {
      el.checked = !!value;
    }
    el.disabled = locked !== undefined;
    $(f.lock).hidden = locked === undefined;
    el.closest('.setting-row').classList.toggle('is-locked', locked !== undefined);
  }
  renderAccounts(state);
}

function current() {
  return {
    syncIntervalMinutes: Number($('#sync-interval').value),
    startAtLogin: $('#start-at-login').checked,
    notifications: $('#notifications').checked,
  };
}

async function save() {
  clearError();
  formError($('#settings-error'), null);
  const status = $('#settings-status');
  status.textContent = 'Saving…';
  try {
    const res = await invoke('set_settings', current());
    status.textContent = 'Saved.';
    await reload().catch(() => {});
    if (res && typeof res === 'object') renderSettings({ ...store.state, settings: res });
    else renderSettings(store.state);
  } catch (e) {
    status.textContent = '';
    formError($('#settings-error'), e);
    renderSettings(store.state);
  }
}

/** A result line with room for an error, and the "Show in folder" button for what was written. */
function result(statusSel, showSel, { text = '', error = null, path = null } = {}) {
  const status = $(statusSel);
  status.textContent = error ? (error.message || String(error)) : text;
  status.classList.toggle('is-error', !!error);
  const show = $(showSel);
  show.hidden = !path;
  show.dataset.path = path || '';
}

async function showInFolder(showSel, statusSel) {
  const path = $(showSel).dataset.path;
  if (!path) return;
  try {
    await invoke('show_in_folder', { path });
  } catch (e) {
    result(statusSel, showSel, { error: e, path });
  }
}

async function exportCalendars() {
  clearError();
  const format = (document.querySelector('input[name="export-format"]:checked') || {}).value || 'ics';
  const restore = busy($('#btn-export'), 'Exporting…');
  result('#export-status', '#btn-export-show');
  try {
    // The system's folder chooser; nothing happens when the person cancels it.
    const dir = await invoke('choose_export_folder');
    if (!dir) return;
    const r = await invoke('export_calendars', { format, dir });
    const what = r && typeof r === 'object' && 'files' in r
      ? `${plural(r.files, 'file', 'files')}, ${plural(r.objects, 'event', 'events')}`
      : 'Calendars';
    const where = (r && r.dir) || dir;
    result('#export-status', '#btn-export-show', { text: `Exported ${what} to ${where}.`, path: where });
    announce(`Exported ${what}.`);
  } catch (e) {
    result('#export-status', '#btn-export-show', { error: e });
  } finally {
    restore();
  }
}

async function saveDiagnostics() {
  clearError();
  const restore = busy($('#btn-diagnostics'), 'Saving…');
  result('#diagnostics-status', '#btn-diagnostics-show');
  try {
    const path = await invoke('choose_diagnostics_file');
    if (!path) return;
    const saved = await invoke('save_diagnostics', { path });
    const where = typeof saved === 'string' ? saved : path;
    result('#diagnostics-status', '#btn-diagnostics-show', { text: `Saved to ${where}.`, path: where });
    announce('Diagnostics saved.');
  } catch (e) {
    result('#diagnostics-status', '#btn-diagnostics-show', { error: e });
  } finally {
    restore();
  }
}

// What the accounts list shows, as last drawn.
let accountsShown = '';

function renderAccounts(state) {
  const subscriptions = state.subscriptions || [];
  // Redrawn only when what it shows changed: the state is re-read on every sync, and a redraw would
  // take the focus from a button here (and a click on it in that moment would go nowhere).
  const shown = JSON.stringify([
    state.accounts.map((a) => [a.apple_id, a.state, a.server_url]),
    subscriptions.map((s) => [s.url, s.display_name]),
  ]);
  if (shown === accountsShown) return;
  accountsShown = shown;
  const list = clear($('#settings-accounts'));
  $('#settings-accounts-title').textContent = subscriptions.length ? 'Accounts and subscriptions' : 'Accounts';
  if (!state.accounts.length) {
    list.append(h('li', { class: 'muted', text: 'No account is linked.' }));
  }
  for (const acc of state.accounts) {
    list.append(h('li', { class: 'settings-account' },
      h('div', {},
        h('p', { class: 'account-id', text: acc.apple_id }),
        h('p', { class: 'small muted', text: `${STATE_LABELS[acc.state] || acc.state} · ${acc.server_url}` })),
      h('button', {
        type: 'button', class: 'btn btn-danger-quiet btn-small', 'aria-label': `Unlink ${acc.apple_id}…`,
        on: { click: () => confirmUnlink(acc.apple_id) },
      }, 'Unlink…')));
  }
  // Public calendars subscribed to by link: no password, so nothing to unlink; Remove… as in the sidebar.
  for (const sub of subscriptions) {
    list.append(h('li', { class: 'settings-account settings-subscription' },
      h('div', {},
        h('p', { class: 'account-id', text: sub.display_name }),
        h('p', { class: 'small muted subscription-url', text: `Subscribed · read-only · ${sub.url}` })),
      h('button', {
        type: 'button', class: 'btn btn-danger-quiet btn-small btn-remove', 'aria-label': `Remove the subscription ${sub.display_name}…`,
        on: { click: () => confirmUnsubscribe(sub) },
      }, 'Remove…')));
  }
}

function confirmUnlink(appleId) {
  pendingUnlink = appleId;
  $('#confirm-unlink-title').textContent = `Unlink ${appleId}?`;
  $('#confirm-unlink-text').textContent = store.state.demo
    ? 'The demo account, its cached events and its saved password are removed from this computer.'
    : 'Its cached events and its saved password are removed from this computer. Your calendars on iCloud are not changed, and you can link the account again at any time.';
  const dlg = $('#confirm-unlink');
  dlg.returnValue = '';
  dlg.showModal();
  $('#btn-unlink-cancel').focus();
}

async function unlink(appleId) {
  clearError();
  try {
    await invoke('unlink_account', { appleId });
    announce(`${appleId} was unlinked.`);
    await reload();
    handlers.unlinked();
  } catch (e) {
    showError(e);
  }
}

export function settingsVisible() {
  return !$('#settings').hidden;
}

export { showScreen };
