// The event details dialog: title, when (local, and in the event's own zone when it differs),
// location, calendar, recurrence and alerts in words, organiser and attendees with their answers, the
// event's URL and its notes as plain text. Links open in the browser only after the person confirms
// (`open_event_link`, which opens only a link written in that event). A modal <dialog>: focus stays
// inside, Esc closes, focus returns to the event that opened it.

import { $, h, clear, showError } from './dom.js';
import { invoke } from './ipc.js';
import { calendarInfo } from './agenda.js';
import { place, time, offsetLabel, writtenOffset } from './format.js';

const dateFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone || '';

let returnFocus = null;
let current = null; // {ev, details}
let pendingUrl = null;
let seq = 0;

export function detailsOpen() {
  return $('#event-dialog').open;
}

function validZone(z) {
  if (!z) return false;
  try { new Intl.DateTimeFormat(undefined, { timeZone: z }); return true; } catch (_) { return false; }
}

/** Lines for "When": local time, and the event's own zone when it is not the local one. */
function whenLines(p, zone) {
  const lines = [];
  if (p.allDay) {
    const last = new Date(p.endDate.getTime() - 86400000);
    lines.push(p.startKey === p.lastKey ? `${dateFmt.format(p.startDate)}, all day`
      : `${dateFmt.format(p.startDate)} – ${dateFmt.format(last)}, all day`);
    return lines;
  }
  const sameDay = p.startKey === p.lastKey;
  lines.push(sameDay
    ? `${dateFmt.format(p.startDate)}, ${time(p.startDate)} – ${time(p.endDate)}`
    : `${dateFmt.format(p.startDate)}, ${time(p.startDate)} – ${dateFmt.format(p.endDate)}, ${time(p.endDate)}`);
  const localLabel = localZone ? `Your time (${localZone.replace(/_/g, ' ')})` : 'Your time';
  const written = writtenOffset(p.ev.start);
  const local = -p.startDate.getTimezoneOffset();
  if (zone && zone !== localZone && (written === null || written !== local || zone === 'UTC')) {
    if (validZone(zone)) {
      const f = new Intl.DateTimeFormat(undefined, { timeZone: zone, weekday: 'short', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' });
      const t = new Intl.DateTimeFormat(undefined, { timeZone: zone, hour: 'numeric', minute: '2-digit' });
      lines.push(`${f.format(p.startDate)} – ${t.format(p.endDate)} in ${zone.replace(/_/g, ' ')}, where it was scheduled`);
    } else if (written !== null) {
      const there = new Date(p.startDate.getTime() + (written - local) * 60000);
      lines.push(`${time(there)} ${offsetLabel(written)} (${zone}), where it was scheduled`);
    }
    lines[0] = `${lines[0]} · ${localLabel}`;
  }
  return lines;
}

const URL_RE = /\b(?:https?:\/\/|mailto:)[^\s<>"“”]+[^\s<>"“”.,;:!?)\]]/gi;

/** Plain-text notes with links as buttons that ask before opening. */
function notesNodes(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const url = m[0];
    out.push(h('button', { type: 'button', class: 'link-button', title: `Open ${url} after you confirm`, on: { click: () => askOpen(url) } }, url));
    last = m.index + url.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function person(p) {
  const name = p.name || p.email || 'Someone';
  const parts = [h('span', { class: 'person-name', text: name })];
  if (p.name && p.email) parts.push(h('span', { class: 'person-email muted small', text: ` <${p.email}>` }));
  if (p.role) parts.push(h('span', { class: 'muted small', text: ` (${p.role})` }));
  return parts;
}

const ANSWER_CLASS = { accepted: 'is-yes', declined: 'is-no', maybe: 'is-maybe' };

function row(label, ...content) {
  return [h('dt', { text: label }), h('dd', {}, ...content)];
}

function render(ev, d) {
  const p = place(ev);
  const info = calendarInfo();
  const color = (info.get(ev.calendar) || {}).color;
  const dlg = $('#event-dialog');
  if (color) dlg.style.setProperty('--cal-color', color); else dlg.style.removeProperty('--cal-color');
  $('#event-title').textContent = (d && d.summary) || ev.summary || '(No title)';
  const body = clear($('#event-body'));
  const when = whenLines(p, d && d.time_zone);
  body.append(...row('When', ...when.map((l, i) => h('span', { class: i ? 'event-line muted' : 'event-line', text: l }))));
  if (d && d.status) body.append(...row('Status', d.status));
  const loc = (d && d.location) || ev.location;
  if (loc) body.append(...row('Location', loc));
  body.append(...row('Calendar', h('span', { class: 'event-cal' }, h('span', { class: 'swatch', 'aria-hidden': 'true' }), ev.calendar)));
  if (d && d.recurrence) body.append(...row('Repeats', d.recurrence));
  if (d && d.alerts && d.alerts.length) body.append(...row(d.alerts.length === 1 ? 'Alert' : 'Alerts', h('ul', { class: 'plain-list' }, ...d.alerts.map((a) => h('li', { text: a })))));
  if (d && d.organizer) body.append(...row('Organiser', ...person(d.organizer)));
  if (d && d.attendees && d.attendees.length) {
    body.append(...row(`Attendees (${d.attendees.length})`, h('ul', { class: 'plain-list attendees' },
      ...d.attendees.map((a) => h('li', {}, ...person(a),
        h('span', { class: `answer ${ANSWER_CLASS[a.answer] || ''}`, text: a.answer || 'not answered yet' }))))));
  }
  if (d && d.url) {
    body.append(...row('Link', h('button', { type: 'button', class: 'link-button', on: { click: () => askOpen(d.url) } }, d.url)));
  }
  if (d && d.notes) body.append(...row('Notes', h('div', { class: 'event-notes' }, ...notesNodes(d.notes))));
}

/** Opens the dialog for an occurrence (an `events` or `search_events` item). */
export async function openDetails(ev, origin) {
  const dlg = $('#event-dialog');
  const mine = ++seq;
  if (!dlg.open) returnFocus = origin || document.activeElement;
  current = { ev, details: null };
  hideConfirm();
  render(ev, null);
  if (!dlg.open) dlg.showModal();
  $('#btn-event-close').focus();
  try {
    const d = await invoke('event_details', { href: ev.href, recurrenceId: ev.recurrence_id || null });
    if (mine !== seq || !dlg.open) return;
    current.details = d;
    render(ev, d);
    dlg.dataset.loaded = 'true';
  } catch (e) {
    if (mine === seq) showError(e);
  }
}

function askOpen(url) {
  pendingUrl = url;
  $('#event-link-question').textContent = 'Open this link in your browser?';
  $('#event-link-url').textContent = url;
  $('#event-link-confirm').hidden = false;
  $('#btn-link-cancel-open').focus();
}

function hideConfirm() {
  pendingUrl = null;
  $('#event-link-confirm').hidden = true;
}

async function confirmOpen() {
  const url = pendingUrl;
  if (!url || !current) return;
  hideConfirm();
  try {
    await invoke('open_event_link', { href: current.ev.href, recurrenceId: current.ev.recurrence_id || null, url });
  } catch (e) {
    showError(e);
  }
  $('#btn-event-close').focus();
}

export function initEventDetails() {
  const dlg = $('#event-dialog');
  $('#btn-event-close').addEventListener('click', () => dlg.close());
  $('#btn-link-cancel-open').addEventListener('click', () => { hideConfirm(); $('#btn-event-close').focus(); });
  $('#btn-link-open').addEventListener('click', confirmOpen);
  // Esc first dismisses the link question, then the dialog.
  dlg.addEventListener('cancel', (e) => {
    if (!$('#event-link-confirm').hidden) { e.preventDefault(); hideConfirm(); $('#btn-event-close').focus(); }
  });
  dlg.addEventListener('close', () => {
    delete dlg.dataset.loaded;
    hideConfirm();
    seq++;
    const back = returnFocus;
    returnFocus = null;
    // The element may have been re-rendered: fall back to the same event in the view.
    if (back && back.isConnected && back.offsetParent !== null) back.focus();
    else if (current) {
      const again = [...document.querySelectorAll(`[data-href="${CSS.escape(current.ev.href)}"]`)]
        .find((el) => el.offsetParent !== null);
      if (again) again.focus();
    }
  });
  // Clicking the backdrop closes.
  dlg.addEventListener('click', (e) => { if (e.target === dlg) dlg.close(); });
}
