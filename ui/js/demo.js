// Demo mode: the banner and "Simulate Apple revoking the password", which runs the real loop
// (rejection → notification → relink wizard).

import { $, showError, clearError, busy } from './dom.js';
import { invoke } from './ipc.js';
import { store, reload } from './store.js';
import { demoHint } from './relink.js';

export function demoAccount(state = store.state) {
  return state.accounts.find((a) => /\/\/(127\.0\.0\.1|localhost|\[::1\])/.test(a.server_url || '')) || state.accounts[0] || null;
}

export function initDemo() {
  $('#btn-simulate-revocation').addEventListener('click', simulate);
}

export function renderDemo(state) {
  const banner = $('#demo-banner');
  const show = !!state.demo && state.accounts.length > 0;
  banner.hidden = !show;
  document.body.classList.toggle('has-demo', show);
  if (!show) return;
  // Until it is subscribed to, the demo offers its public calendar link.
  const link = state.demoPublishedLink;
  const subscribed = (state.subscriptions || []).length > 0;
  $('#demo-published').hidden = !link || subscribed;
  $('#demo-published-link').textContent = link || '';
  const acc = demoAccount(state);
  const revoked = acc && acc.state === 'needs_relink';
  const btn = $('#btn-simulate-revocation');
  if (!btn.classList.contains('is-busy')) btn.disabled = !!revoked;
  const status = $('#demo-status');
  // While the demo account is paused, the relink banner (or the wizard) says why: once per screen.
  if (revoked || status.dataset.kind === 'revoked') status.textContent = '';
  status.dataset.kind = revoked ? 'revoked' : '';
}

function pickPassword(res) {
  if (typeof res === 'string' && res) return res;
  if (res && typeof res === 'object') return res.newPassword || res.new_password || res.password || null;
  return null;
}

async function simulate() {
  clearError();
  const btn = $('#btn-simulate-revocation');
  const restore = busy(btn, 'Revoking…');
  const status = $('#demo-status');
  try {
    // The backend switches the simulator's password and runs a real sync right away, so the
    // rejection → notification → relink loop happens now; the expected rejection is not an error.
    status.textContent = 'Apple no longer accepts the demo password. Syncing to notice it…';
    const res = await invoke('simulate_revocation');
    demoHint.password = pickPassword(res);
    const err = res && (res.syncError || res.sync_error);
    if (err && err.message && !/relink|rejected/i.test(`${err.code} ${err.message}`)) showError(err);
  } catch (e) {
    showError(e);
    status.textContent = '';
  } finally {
    restore();
  }
  await reload().catch(showError);
}
