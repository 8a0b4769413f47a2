// Subscriptions to published calendars in the sidebar: one read-only calendar each, with its colour,
// a "Subscribed" badge, a show/hide switch (set_subscription_hidden) and "Remove…" (unsubscribe_calendar,
// after a confirmation).

import { $, h, showError, announce } from './dom.js';
import { invoke } from './ipc.js';
import { reload } from './store.js';
import { cssColor } from './calendars.js';
import { plural, relativeTime } from './format.js';

let pending = null;
let onChanged = () => {};

export function initSubscriptions(changedFn) {
  onChanged = changedFn || onChanged;
  const dlg = $('#confirm-unsubscribe');
  dlg.addEventListener('close', () => {
    if (dlg.returnValue === 'confirm' && pending) unsubscribe(pending);
    pending = null;
  });
}

let uid = 0;

function subscriptionRow(sub) {
  const id = `sub-toggle-${++uid}`;
  const color = cssColor(sub.color);
  const input = h('input', {
    type: 'checkbox', id, class: 'switch', role: 'switch', checked: !sub.hidden,
    'aria-label': `Show ${sub.display_name} in the agenda`,
    'aria-describedby': `${id}-meta`,
    dataset: { calKey: `subscription|${sub.url}` },
  });
  input.addEventListener('change', async () => {
    const hidden = !input.checked;
    input.setAttribute('aria-busy', 'true');
    try {
      await invoke('set_subscription_hidden', { url: sub.url, hidden });
      onChanged();
    } catch (e) {
      input.checked = !hidden;
      showError(e);
    } finally {
      input.removeAttribute('aria-busy');
    }
  });
  const meta = ['Subscribed', 'read-only', plural(Number(sub.event_count) || 0, 'event', 'events')];
  return h('li', { class: `calendar-row subscription-row${sub.hidden ? ' is-hidden' : ''}`, cssVars: color ? { '--cal-color': color } : {} },
    h('span', { class: 'swatch', 'aria-hidden': 'true' }),
    h('label', { for: id, class: 'calendar-name' },
      h('span', { text: sub.display_name }),
      h('span', { id: `${id}-meta`, class: 'calendar-meta small muted', text: meta.join(' · ') })),
    input);
}

/** The sidebar card of one subscription. */
export function subscriptionCard(sub) {
  const when = sub.last_success ? relativeTime(sub.last_success) : null;
  return h('li', { class: 'account-card subscription-card', dataset: { subscription: sub.url } },
    h('div', { class: 'account-head' },
      h('span', { class: 'account-id', text: sub.display_name, title: sub.url }),
      h('p', { class: 'account-status' },
        h('span', { class: 'badge badge-subscribed' }, 'Subscribed · read-only'),
        h('span', { class: 'small muted account-sync', text: when ? `Refreshed ${when}` : 'Not refreshed yet' }))),
    sub.last_error ? h('p', { class: 'small account-error', text: sub.last_error }) : null,
    h('ul', { class: 'calendar-list', 'aria-label': `Calendar of the subscription ${sub.display_name}` }, subscriptionRow(sub)),
    h('button', {
      type: 'button', class: 'btn btn-danger-quiet btn-small btn-remove', 'aria-label': `Remove the subscription ${sub.display_name}…`,
      on: { click: () => confirmUnsubscribe(sub) },
    }, 'Remove…'));
}

/** Asks before removing `sub` (the sidebar's and Settings' Remove…). */
export function confirmUnsubscribe(sub) {
  pending = sub;
  $('#confirm-unsubscribe-title').textContent = `Remove “${sub.display_name}”?`;
  $('#confirm-unsubscribe-text').textContent = 'Its events are removed from this computer. The calendar itself is not changed, and you can subscribe to the link again at any time.';
  const dlg = $('#confirm-unsubscribe');
  dlg.returnValue = '';
  dlg.showModal();
  $('#btn-unsubscribe-cancel').focus();
}

async function unsubscribe(sub) {
  try {
    await invoke('unsubscribe_calendar', { url: sub.url });
    announce(`${sub.display_name} was removed.`);
    await reload();
    onChanged();
  } catch (e) {
    showError(e);
  }
}
