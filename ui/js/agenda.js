// The agenda: 14 days from the chosen date (today unless another was picked) from the backend's
// `events` (recurrences already expanded), grouped by local day, all-day first, times in local time
// with the event's own offset noted when it differs. The calendar view (calendar-view.js) decides
// which view is shown; `refreshAgenda` refreshes whichever it is.

import { $, h, clear, showError } from './dom.js';
import { invoke } from './ipc.js';
import { store } from './store.js';
import { cssColor } from './calendars.js';
import { startOfDay, addDays, dayKey, dateFromKey, dayHeading, groupByDay, describeWhen, place } from './format.js';

export const AGENDA_DAYS = 14;
/** Events listed per day; the rest are a click away in the day view. */
export const AGENDA_PER_DAY = 40;
/**
 * Rows built before the agenda is first painted (well over a screenful); the later days follow one
 * per frame, so a key press is answered by the days in sight.
 */
const FIRST_ROWS = 60;
const SVG = 'http://www.w3.org/2000/svg';

let seq = 0;
let lastDay = null;

/**
 * Set by the calendar view: the agenda's first day, the refresher of the current view, and the
 * fetcher of placed occurrences (`place`) covering at least [from, to), which answers from the
 * windows it already holds when one of them covers these days.
 */
export const agendaHooks = {
  start: () => startOfDay(new Date()),
  fetch: null,
  refresh: null,
  rendered: null,
  open: null,
  showDay: null,
};

export function calendarInfo() {
  // Calendar name → {color, hidden}; a name is hidden only when every calendar with that name is.
  const info = new Map();
  for (const acc of store.state.accounts) {
    for (const c of acc.calendars) {
      const name = c.display_name;
      const prev = info.get(name);
      info.set(name, {
        color: (prev && prev.color) || cssColor(c.color),
        hidden: prev ? prev.hidden && !!c.hidden : !!c.hidden,
      });
    }
  }
  return info;
}

/** Refreshes the current view (the agenda unless the calendar view chose another). */
export async function refreshAgenda() {
  if (agendaHooks.refresh) return agendaHooks.refresh();
  return refreshAgendaList();
}

export async function refreshAgendaList() {
  const el = $('#agenda');
  const mine = ++seq;
  const from = startOfDay(agendaHooks.start());
  const to = addDays(from, AGENDA_DAYS);
  lastDay = dayKey(new Date());
  el.setAttribute('aria-busy', 'true');
  // The first time (nothing on screen yet): a loading state, never a blank pane.
  if (!el.firstChild) {
    el.append(h('div', { class: 'agenda-loading', role: 'status' },
      h('div', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading your events…'));
  }
  let placed;
  const t0 = performance.now();
  try {
    placed = agendaHooks.fetch
      ? await agendaHooks.fetch(from, to)
      : (await invoke('events', { from: from.toISOString(), to: to.toISOString(), calendar: null })).map(place);
  } catch (e) {
    if (mine === seq) {
      el.setAttribute('aria-busy', 'false');
      showError(e);
    }
    return;
  }
  if (mine !== seq) return;
  const t1 = performance.now();
  const count = render(el, Array.isArray(placed) ? placed : [], from, mine);
  if (agendaHooks.rendered) agendaHooks.rendered('agenda', count, { fetch: t1 - t0, render: performance.now() - t1 });
}

/** Marks the agenda complete (every day built) for assistive technology and the tests. */
function done(el) {
  el.setAttribute('aria-busy', 'false');
  window.__calAgendaDone = performance.now();
}

/**
 * Renders the placed occurrences of the 14 days from `from`: the first days now, the others in the
 * next frames unless refresh `mine` was overtaken or the list was put away. Returns how many occurrences
 * fall in the 14 days.
 */
function render(el, placed, from, mine) {
  const info = calendarInfo();
  const firstKey = dayKey(from);
  const endKey = dayKey(addDays(from, AGENDA_DAYS));
  const inDays = placed.filter((p) => p.lastKey >= firstKey && p.startKey < endKey);
  const visible = inDays.filter((p) => !(info.get(p.ev.calendar) || {}).hidden);
  const hiddenCount = inDays.length - visible.length;
  clear(el);
  const groups = groupByDay(visible, from, AGENDA_DAYS);
  if (groups.length === 0) {
    el.append(h('div', { class: 'empty-state' },
      h('p', { class: 'empty-title', text: dayKey(from) === dayKey(new Date()) ? 'Nothing in the next 14 days' : 'Nothing in these 14 days' }),
      h('p', { class: 'muted', text: hiddenCount
        ? `${hiddenCount} event${hiddenCount === 1 ? ' is' : 's are'} in hidden calendars.`
        : store.state.accounts.length || store.state.subscriptions.length ? 'Enjoy the free time.' : 'Link a calendar to see your events here.' })));
    done(el);
    return inDays.length;
  }
  const todayKey = dayKey(new Date());
  let rows = 0;
  let i = 0;
  while (i < groups.length && (i === 0 || rows < FIRST_ROWS)) rows += daySection(el, groups[i++], todayKey, info);
  // One more day per frame: each frame stays short, and the days in sight are painted first.
  const later = () => {
    if (mine !== seq || el.hidden) return;
    daySection(el, groups[i++], todayKey, info);
    if (i < groups.length) requestAnimationFrame(later);
    else done(el);
  };
  if (i < groups.length) requestAnimationFrame(later);
  else done(el);
  return inDays.length;
}

/** Appends one day of the agenda; returns the rows it shows. */
function daySection(el, [key, list], todayKey, info) {
  const { rel, full } = dayHeading(key, todayKey);
  const headId = `day-${key}`;
  const heading = h('h2', { class: 'agenda-day-title', id: headId },
    rel ? h('span', { class: 'agenda-day-rel', text: rel }) : null,
    h('span', { class: rel ? 'agenda-day-date muted' : 'agenda-day-date', text: full }));
  const ul = h('ul', { class: 'agenda-list', 'aria-labelledby': headId });
  // A crowded day lists its first events and leads to its day view for the rest, so the agenda
  // stays quick at tens of thousands of events.
  for (const p of list.slice(0, AGENDA_PER_DAY)) ul.append(eventItem(p, key, info));
  const more = list.length - AGENDA_PER_DAY;
  if (more > 0) {
    ul.append(h('li', { class: 'agenda-more' },
      h('button', {
        type: 'button', class: 'btn btn-quiet btn-small',
        on: { click: () => agendaHooks.showDay && agendaHooks.showDay(dateFromKey(key)) },
      }, `${more} more on this day — show the day`)));
  }
  // The height it will take (heading, rows, "more"), until laid out once (see styles.css).
  const rows = Math.min(list.length, AGENDA_PER_DAY) + (more > 0 ? 1 : 0);
  el.append(h('section', {
    class: `agenda-day${key === todayKey ? ' is-today' : ''}`, 'aria-labelledby': headId,
    cssVars: { '--day-height': `${34 + rows * 56}px` },
  }, heading, ul));
  return rows;
}

function eventItem(p, key, info) {
  const ev = p.ev;
  const when = describeWhen(p, key);
  const color = (info.get(ev.calendar) || {}).color;
  const title = ev.summary && ev.summary.trim() ? ev.summary : '(No title)';
  const meta = [];
  if (ev.location) meta.push(h('span', { class: 'agenda-location', text: ev.location }));
  meta.push(h('span', { class: 'agenda-calendar', text: ev.calendar }));
  const repeat = !ev.recurrence_id ? null
    : (h('span', { class: 'agenda-repeat', title: 'Repeating event' },
      h('svg', { ns: SVG, viewBox: '0 0 24 24', class: 'icon icon-tiny', 'aria-hidden': 'true', focusable: 'false' },
        h('path', { ns: SVG, d: 'M17 2l3 3-3 3M4 11V9a4 4 0 0 1 4-4h12M7 22l-3-3 3-3M20 13v2a4 4 0 0 1-4 4H4' })),
      h('span', { class: 'sr-only', text: '(repeats)' })));
  const open = (e) => agendaHooks.open && agendaHooks.open(ev, e.currentTarget);
  return h('li', {
    class: `agenda-event${p.allDay ? ' is-all-day' : ''}`,
    tabindex: '0',
    role: 'button',
    'aria-haspopup': 'dialog',
    dataset: { uid: ev.uid, calendar: ev.calendar, start: ev.start, href: ev.href },
    cssVars: color ? { '--cal-color': color } : {},
    on: {
      click: open,
      keydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(e); } },
    },
  },
  h('div', { class: 'agenda-when' },
    h('span', { class: 'agenda-time', text: when.main }),
    when.sub ? h('span', { class: 'agenda-time-sub small muted', text: when.sub }) : null,
    when.tz ? h('span', { class: 'agenda-tz small muted', title: 'Time where the event was scheduled', text: when.tz }) : null),
  h('span', { class: 'agenda-bar', 'aria-hidden': 'true' }),
  h('div', { class: 'agenda-what' },
    h('span', { class: 'agenda-title' }, title, repeat),
    h('span', { class: 'agenda-meta small muted' }, ...joinDots(meta))));
}

function joinDots(nodes) {
  const out = [];
  nodes.forEach((n, i) => {
    if (i) out.push(h('span', { class: 'dot', 'aria-hidden': 'true', text: ' · ' }));
    out.push(n);
  });
  return out;
}

/** Re-renders when the local day changed (the agenda starts today). */
export function refreshIfDayChanged() {
  const today = dayKey(new Date());
  if (lastDay && lastDay !== today) {
    lastDay = today;
    refreshAgenda();
  }
}
