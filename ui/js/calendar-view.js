// The calendar views: agenda (agenda.js), day, week and month; today / previous / next / a picked
// date; keyboard shortcuts and their help; search. Each view asks the backend only for the days it
// shows (`events(from, to)`: the cache's window index, recurrences expanded within the window), keeps
// what it fetched for a moment and fetches the neighbouring period ahead, so a key press paints from
// memory. The chosen view and date are kept in the data dir (`set_view_state`) for the next window.

import { $, h, clear, showError, announce, currentScreen } from './dom.js';
import { invoke } from './ipc.js';
import { agendaHooks, refreshAgendaList, calendarInfo, AGENDA_DAYS } from './agenda.js';
import { startOfDay, addDays, dayKey, dateFromKey, place, time, plural, DAY_MS } from './format.js';
import { openDetails, detailsOpen } from './event-details.js';
import { store } from './store.js';

const VIEWS = ['day', 'week', 'month', 'agenda'];
const HOUR_PX = 44;
const MONTH_LANES = 4;

export const view = { name: 'agenda', date: startOfDay(new Date()) };

// ---- Locale: the first day of the week and the clock ----------------------------------------------

const SUNDAY_REGIONS = new Set(('AG AS AU BD BR BS BT BW BZ CA CN CO DM DO ET GT GU HK HN ID IL IN JM JP KE KH KR LA MH MM MO MT MX MZ NI NP PA PE PH PK PR PT PY SA SG SV TH TT TW UM US VE VI WS YE ZA ZW').split(' '));
const SATURDAY_REGIONS = new Set(('AE AF BH DJ DZ EG IQ IR JO KW LY OM QA SD SY').split(' '));

/**
 * The locale every date and time on the page is written in. Not `navigator.language` itself: in a
 * session without a locale (LANG unset, `C`/`POSIX`) it is `C`, no language tag, while `Intl` falls
 * back to its own default and writes "7:30 PM"; the week then started on Monday beside a US clock.
 */
export function pageLocale() {
  return new Intl.DateTimeFormat().resolvedOptions().locale;
}

/** 0 = Sunday … 6 = Saturday, from the locale (`Intl.Locale` week info, else its region). */
export function firstDayOfWeek(lang = pageLocale()) {
  try {
    const loc = new Intl.Locale(lang);
    const info = typeof loc.getWeekInfo === 'function' ? loc.getWeekInfo() : loc.weekInfo;
    if (info && Number.isInteger(info.firstDay)) return info.firstDay % 7;
    const region = (loc.maximize && loc.maximize().region) || loc.region;
    if (region && SUNDAY_REGIONS.has(region)) return 0;
    if (region && SATURDAY_REGIONS.has(region)) return 6;
  } catch (_) { /* an odd tag: Monday, as ISO 8601 */ }
  return 1;
}

/** Whether the locale's clock is 12-hour (`hourCycle` h11/h12). */
export function twelveHour() {
  const o = new Intl.DateTimeFormat(undefined, { hour: 'numeric' }).resolvedOptions();
  return o.hourCycle ? o.hourCycle === 'h11' || o.hourCycle === 'h12' : !!o.hour12;
}

const WEEK_START = firstDayOfWeek();
const hourFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', hourCycle: twelveHour() ? 'h12' : 'h23' });
const monthTitleFmt = new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric' });
const dayTitleFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const weekdayShortFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const dayMonthFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const dayMonthYearFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const fullDayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });

function startOfWeek(d) {
  const x = startOfDay(d);
  return addDays(x, -((x.getDay() - WEEK_START + 7) % 7));
}

function startOfMonth(d) {
  return new Date(d.getFullYear(), d.getMonth(), 1);
}

/** [from, to) of the days a view shows around `date`. */
export function range(name, date) {
  const d = startOfDay(date);
  if (name === 'day') return [d, addDays(d, 1)];
  if (name === 'week') { const s = startOfWeek(d); return [s, addDays(s, 7)]; }
  if (name === 'month') { const s = startOfWeek(startOfMonth(d)); return [s, addDays(s, 42)]; }
  return [d, addDays(d, AGENDA_DAYS)];
}

function step(name, date, dir) {
  const d = startOfDay(date);
  if (name === 'day') return addDays(d, dir);
  if (name === 'week') return addDays(d, 7 * dir);
  if (name === 'month') {
    const m = new Date(d.getFullYear(), d.getMonth() + dir, 1);
    const last = new Date(m.getFullYear(), m.getMonth() + 1, 0).getDate();
    return new Date(m.getFullYear(), m.getMonth(), Math.min(d.getDate(), last));
  }
  return addDays(d, AGENDA_DAYS * dir);
}

function title(name, date) {
  const [from, to] = range(name, date);
  if (name === 'day') return dayTitleFmt.format(date);
  if (name === 'month') return monthTitleFmt.format(date);
  const last = addDays(to, -1);
  if (name === 'agenda' && dayKey(from) === dayKey(new Date())) return 'Next 14 days';
  const fmt = from.getFullYear() === last.getFullYear() ? dayMonthFmt : dayMonthYearFmt;
  return `${fmt.format(from)} – ${dayMonthYearFmt.format(last)}`;
}

function periodWord(name) {
  return { day: 'day', week: 'week', month: 'month', agenda: '14 days' }[name];
}

// ---- Fetching: only the window shown, kept briefly, neighbours ahead --------------------------------

// "from|to" → {from, to, promise: Promise<data>, data (once fetched), version}: `version` is the
// state's `eventsVersion` when the fetch was asked for, so the data is at least that new.
const cache = new Map();
const CACHE_MAX = 12;

/**
 * The events of [from, to) as `{count, placed, multi, byDay}`. A window already fetched (or being
 * fetched) that holds these days answers from memory: the agenda's 14 days from a month on screen,
 * a week or a day of a month fetched ahead.
 */
function fetchRange(from, to) {
  const key = `${from.toISOString()}|${to.toISOString()}`;
  const same = cache.get(key);
  if (same) return same.promise;
  let holder = null;
  for (const e of cache.values()) {
    if (e.from <= from && e.to >= to && (!holder || (e.data && !holder.data))) holder = e;
  }
  if (holder) {
    return holder.data ? Promise.resolve(narrow(holder.data, from, to)) : holder.promise.then((d) => narrow(d, from, to));
  }
  window.__calFetching = (window.__calFetching || 0) + 1;
  window.__calFetched = (window.__calFetched || 0) + 1; // for the tests: backend fetches so far
  const entry = { from, to, data: null, promise: null, version: store.state.eventsVersion };
  const t0 = performance.now();
  entry.promise = invoke('events', { from: from.toISOString(), to: to.toISOString(), calendar: null })
    .then((e) => {
      const t1 = performance.now();
      entry.data = index((Array.isArray(e) ? e : []).map(place));
      // How long the command and the placing took, for the timing test.
      window.__calLastFetch = { command: t1 - t0, place: performance.now() - t1 };
      return entry.data;
    });
  entry.promise.catch(() => { if (cache.get(key) === entry) cache.delete(key); })
    .finally(() => { window.__calFetching -= 1; });
  cache.set(key, entry);
  while (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value);
  return entry.promise;
}

/**
 * The part of fetched data within the days [from, to) (local midnights, as every view's window): an
 * occurrence is in them when it ends after `from` and starts before `to`, as the backend selects.
 */
function narrow(data, from, to) {
  const firstKey = dayKey(from);
  const endKey = dayKey(to);
  return index(data.placed.filter((p) => p.lastKey >= firstKey && p.startKey < endKey));
}

/**
 * Placed once per fetch: bars (all-day or over several days) apart, and the other events by their
 * day, in the backend's order (by start).
 */
function index(placed) {
  const multi = [];
  const byDay = new Map();
  for (const p of placed) {
    if (p.sortTitle === undefined) p.sortTitle = eventTitle(p.ev).toLocaleLowerCase();
    if (p.allDay || p.startKey !== p.lastKey) multi.push(p);
    else {
      let list = byDay.get(p.startKey);
      if (!list) byDay.set(p.startKey, (list = []));
      list.push(p);
    }
  }
  return { count: placed.length, placed, multi, byDay };
}

/** Forgets fetched windows. */
export function invalidate() {
  cache.clear();
}

/**
 * After the state changed (a sync, a calendar shown or hidden, linked or removed): forgets the
 * windows fetched before the events version the state has now. A sync that changed nothing leaves
 * the version as it was, and every window fetched ahead still answers the next key press; at 50,000
 * events, fetching a month again kept a key press waiting 1.8 s in a debug build.
 */
function forgetChanged() {
  const now = store.state.eventsVersion;
  if (now === undefined) return invalidate();
  for (const [key, entry] of cache) if (entry.version !== now) cache.delete(key);
}

/**
 * After a view is painted: the periods before and after it, and the week, month and 14 days around
 * its date, so the next key press (→, ←, w, m, a) paints from memory. A window that a fetched one
 * holds costs nothing (see `fetchRange`).
 */
function prefetch() {
  const wanted = [];
  if (view.name !== 'agenda') {
    for (const dir of [1, -1]) wanted.push(range(view.name, step(view.name, view.date, dir)));
  }
  for (const other of ['month', 'week', 'agenda']) if (other !== view.name) wanted.push(range(other, view.date));
  for (const [f, t] of wanted) fetchRange(f, t).catch(() => {});
}

let prefetchTimer = null;
function prefetchSoon() {
  clearTimeout(prefetchTimer);
  prefetchTimer = setTimeout(() => { prefetch(); warmMonth(); }, 150);
}

/**
 * Once per window, while another view is on screen: builds the month around the date off screen,
 * lays it out and drops it. The first month the engine builds and lays out costs several times a
 * later one (cold code and layout caches: about 200 ms against 30 ms at 17,000 events), which the
 * first `m` would otherwise wait for; the month shown on `m` is still built from its data then.
 */
let monthWarmed = false;
function warmMonth() {
  if (monthWarmed || view.name === 'month') return;
  const date = view.date;
  const [from, to] = range('month', date);
  fetchRange(from, to).then((data) => {
    if (monthWarmed || view.name === 'month') return;
    monthWarmed = true;
    const pane = $('#agenda-pane');
    const box = h('div', {
      class: 'cal-grid cal-warm', 'aria-hidden': 'true', inert: true,
      cssVars: { width: `${pane.clientWidth}px`, height: `${Math.max(400, pane.clientHeight - 80)}px` },
    });
    pane.append(box);
    renderMonth(box, data, from, calendarInfo(), date);
    void box.offsetHeight;
    box.remove();
  }).catch(() => {});
}

// ---- Timing of a key press to the painted view (read by the WebDriver test) -----------------------

let pendingKey = null;
window.__calTimings = window.__calTimings || [];

/** `parts`: {fetch, render} ms, how long the data took to arrive and the DOM to be built. */
function markPainted(name, count, parts = {}) {
  const k = pendingKey;
  pendingKey = null;
  if (!k) return;
  // Style and layout now rather than in the coming frame (the same work, moved), to tell them
  // apart; `before` is what came before the fetch (dropping the previous view).
  const tl = performance.now();
  void document.body.offsetHeight;
  parts = { ...parts, layout: performance.now() - tl, before: tl - k.t0 - (parts.fetch || 0) - (parts.render || 0) };
  // `frame`: until the next frame began (what else the page was busy with), then its paint.
  const tf = performance.now();
  requestAnimationFrame(() => {
    const frame = performance.now() - tf;
    requestAnimationFrame(() => {
      window.__calTimings.push({ key: k.key, view: name, events: count, ms: performance.now() - k.t0, t0: k.t0, ...parts, frame });
    });
  });
}

// ---- Rendering -------------------------------------------------------------------------------------

let seq = 0;

function setTitle() {
  $('#agenda-title').textContent = title(view.name, view.date);
  const word = periodWord(view.name);
  $('#btn-prev-label').textContent = `Previous ${word}`;
  $('#btn-next-label').textContent = `Next ${word}`;
  $('#btn-prev').title = `Previous ${word} (←)`;
  $('#btn-next').title = `Next ${word} (→)`;
  $('#cal-date').value = dayKey(view.date);
  for (const b of document.querySelectorAll('.cal-view-btn')) {
    b.setAttribute('aria-pressed', String(b.dataset.view === view.name));
  }
  document.getElementById('agenda-pane').dataset.view = view.name;
}

export async function refreshView() {
  setTitle();
  const grid = $('#cal-grid');
  const agenda = $('#agenda');
  if (searchActive()) return;
  if (view.name === 'agenda') {
    unlayer(grid);
    grid.hidden = true;
    agenda.hidden = false;
    return refreshAgendaList();
  }
  // The agenda's list is dropped, not kept hidden: at tens of thousands of events it holds
  // thousands of nodes that every later layout would carry. Until this view is painted, the view
  // lies over it and the list stays as it is: hiding or restyling those nodes cost the first key
  // press away from the agenda 80 ms of layout at 50,000 events, against 10 ms for the month itself.
  if (!agenda.hidden && !grid.classList.contains('is-over')) {
    const pane = $('#agenda-pane');
    pane.scrollTop = 0;
    grid.classList.add('is-over');
    grid.style.top = `${agenda.offsetTop}px`;
    grid.style.height = `${pane.clientHeight - agenda.offsetTop}px`;
    setTimeout(() => {
      if (!grid.classList.contains('is-over')) return;
      agenda.hidden = true;
      clear(agenda);
      unlayer(grid);
    }, 250);
  }
  grid.hidden = false;
  const mine = ++seq;
  const [from, to] = range(view.name, view.date);
  grid.setAttribute('aria-busy', 'true');
  let data;
  const t0 = performance.now();
  try {
    data = await fetchRange(from, to);
  } catch (e) {
    if (mine === seq) { grid.setAttribute('aria-busy', 'false'); showError(e); }
    return;
  }
  if (mine !== seq) return;
  const t1 = performance.now();
  // Hidden calendars are left out by the backend (and the cache is dropped when one is toggled).
  const info = calendarInfo();
  if (view.name === 'month') renderMonth(grid, data, from, info);
  else renderDays(grid, data, from, view.name === 'day' ? 1 : 7, info);
  grid.setAttribute('aria-busy', 'false');
  markPainted(view.name, data.count, { fetch: t1 - t0, render: performance.now() - t1 });
  // The neighbours once this view is on screen, so they never compete with painting it.
  prefetchSoon();
}

/** Puts a view that lay over the agenda (see `refreshView`) back in the flow. */
function unlayer(grid) {
  grid.classList.remove('is-over');
  grid.style.top = '';
  grid.style.height = '';
}

function eventTitle(ev) {
  return ev.summary && ev.summary.trim() ? ev.summary : '(No title)';
}

function whenLabel(p) {
  if (p.allDay) {
    const last = addDays(p.endDate, -1);
    return p.startKey === p.lastKey ? `${fullDayFmt.format(p.startDate)}, all day` : `all day, ${dayMonthFmt.format(p.startDate)} to ${dayMonthFmt.format(last)}`;
  }
  const sameDay = p.startKey === p.lastKey;
  return sameDay
    ? `${fullDayFmt.format(p.startDate)}, ${time(p.startDate)} to ${time(p.endDate)}`
    : `${dayMonthFmt.format(p.startDate)} ${time(p.startDate)} to ${dayMonthFmt.format(p.endDate)} ${time(p.endDate)}`;
}

function eventButton(p, info, cls, content) {
  const ev = p.ev;
  const color = (info.get(ev.calendar) || {}).color;
  return h('button', {
    type: 'button',
    class: `cal-event ${cls}${p.allDay ? ' is-all-day' : ''}`,
    'aria-haspopup': 'dialog',
    'aria-label': `${eventTitle(ev)}, ${whenLabel(p)}${ev.location ? `, ${ev.location}` : ''}, ${ev.calendar}`,
    title: `${eventTitle(ev)} — ${whenLabel(p)}`,
    dataset: { href: ev.href, start: ev.start },
    cssVars: color ? { '--cal-color': color } : {},
    on: { click: (e) => openDetails(ev, e.currentTarget) },
  }, ...content);
}

function dayHeader(d, todayKey, link = true) {
  const key = dayKey(d);
  const label = fullDayFmt.format(d);
  const inner = [h('span', { class: 'cal-dow', text: weekdayShortFmt.format(d) }), h('span', { class: 'cal-dnum', text: String(d.getDate()) })];
  return link
    ? h('button', { type: 'button', class: `cal-day-link${key === todayKey ? ' is-today' : ''}`, 'aria-label': `${label}${key === todayKey ? ' (today)' : ''}, show the day`, on: { click: () => go('day', d) } }, ...inner)
    : h('div', { class: `cal-day-link${key === todayKey ? ' is-today' : ''}` }, ...inner);
}

/**
 * Lays spans over columns [0, cols): each item {col, span, ...} gets the first lane free over its
 * columns. Returns the lanes used.
 */
function assignLanes(items, cols, maxLanes = Infinity) {
  const used = Array.from({ length: cols }, () => []);
  let lanes = 0;
  for (const it of items) {
    let lane = 0;
    for (;;) {
      // Past the lanes shown, a bar is only counted ("+N more"): no need to find its lane.
      if (lane >= maxLanes) break;
      let free = true;
      for (let c = it.col; c < it.col + it.span; c++) if (used[c][lane]) { free = false; break; }
      if (free) break;
      lane++;
    }
    it.lane = lane;
    if (lane >= maxLanes) continue;
    for (let c = it.col; c < it.col + it.span; c++) used[c][lane] = true;
    lanes = Math.max(lanes, lane + 1);
  }
  return lanes;
}

/** Spans of the bars (all-day or several days) in a row of `cols` days from `rowStart`. */
function spansIn(multiList, rowStart, cols) {
  const firstKey = dayKey(rowStart);
  const endKey = dayKey(addDays(rowStart, cols));
  const out = [];
  for (const p of multiList) {
    const multi = true;
    if (p.lastKey < firstKey || p.startKey >= endKey) continue;
    const s = p.startKey < firstKey ? rowStart : dateFromKey(p.startKey);
    const e = p.lastKey >= endKey ? addDays(rowStart, cols - 1) : dateFromKey(p.lastKey);
    const col = Math.round((s - rowStart) / DAY_MS);
    const span = Math.round((e - s) / DAY_MS) + 1;
    out.push({ p, col, span, multi, contLeft: p.startKey < firstKey, contRight: p.lastKey >= endKey });
  }
  // Longer bars first (they need a lane across days), then all-day, then by start.
  out.sort((a, b) => (b.span - a.span) || (b.p.allDay - a.p.allDay)
    || (a.p.startDate - b.p.startDate) || (a.p.sortTitle < b.p.sortTitle ? -1 : a.p.sortTitle > b.p.sortTitle ? 1 : 0));
  return out;
}

function renderMonth(grid, data, from, info, date = view.date) {
  const todayKey = dayKey(new Date());
  const month = date.getMonth();
  // Weeks as labelled groups of buttons (each event's label says its day and time): a reader walks
  // them in order; the day numbers open the day.
  const table = h('div', { class: 'month', role: 'group', 'aria-label': monthTitleFmt.format(date) });
  const head = h('div', { class: 'month-head', 'aria-hidden': 'true' });
  for (let i = 0; i < 7; i++) {
    const d = addDays(from, i);
    head.append(h('div', { class: 'month-dow', text: weekdayShortFmt.format(d) }));
  }
  table.append(head);
  for (let w = 0; w < 6; w++) {
    const rowStart = addDays(from, w * 7);
    const row = h('div', { class: 'month-week', role: 'group', 'aria-label': `Week of ${fullDayFmt.format(rowStart)}` });
    // Bars first (they need the same lane across days), then each day's events in the lanes left.
    const items = spansIn(data.multi, rowStart, 7);
    assignLanes(items, 7, MONTH_LANES);
    const hiddenPerDay = new Array(7).fill(0);
    const used = Array.from({ length: 7 }, () => new Set());
    for (const it of items) for (let c = it.col; c < it.col + it.span; c++) used[c].add(it.lane);
    for (let c = 0; c < 7; c++) {
      let lane = 0;
      for (const p of data.byDay.get(dayKey(addDays(rowStart, c))) || []) {
        while (used[c].has(lane)) lane++;
        if (lane >= MONTH_LANES) { hiddenPerDay[c]++; continue; }
        used[c].add(lane);
        items.push({ p, col: c, span: 1, lane, multi: false, contLeft: false, contRight: false });
      }
    }
    for (let i = 0; i < 7; i++) {
      const d = addDays(rowStart, i);
      const key = dayKey(d);
      const cls = ['month-day'];
      if (d.getMonth() !== month) cls.push('is-other-month');
      if (key === todayKey) cls.push('is-today');
      if (key === dayKey(date)) cls.push('is-selected');
      row.append(h('div', { class: cls.join(' '), cssVars: { 'grid-column': String(i + 1), 'grid-row': '1 / -1' }, dataset: { day: key } },
        h('button', { type: 'button', class: 'month-dnum', text: String(d.getDate()), 'aria-label': `${fullDayFmt.format(d)}${key === todayKey ? ' (today)' : ''}, show the day`, on: { click: () => go('day', d) } })));
    }
    for (const it of items) {
      if (it.lane >= MONTH_LANES) {
        for (let c = it.col; c < it.col + it.span; c++) hiddenPerDay[c]++;
        continue;
      }
      const p = it.p;
      const content = it.multi
        ? [h('span', { class: 'cal-event-title', text: eventTitle(p.ev) })]
        : [h('span', { class: 'cal-event-dot', 'aria-hidden': 'true' }), h('span', { class: 'cal-event-time', text: time(p.startDate) }), h('span', { class: 'cal-event-title', text: eventTitle(p.ev) })];
      const btn = eventButton(p, info, `${it.multi ? 'cal-bar' : 'cal-item'}${it.contLeft ? ' cont-left' : ''}${it.contRight ? ' cont-right' : ''}`, content);
      btn.style.gridColumn = `${it.col + 1} / span ${it.span}`;
      btn.style.gridRow = String(it.lane + 2);
      row.append(btn);
    }
    for (let c = 0; c < 7; c++) {
      if (!hiddenPerDay[c]) continue;
      const d = addDays(rowStart, c);
      row.append(h('button', {
        type: 'button', class: 'month-more', cssVars: { 'grid-column': String(c + 1), 'grid-row': String(MONTH_LANES + 2) },
        'aria-label': `${plural(hiddenPerDay[c], 'more event', 'more events')} on ${fullDayFmt.format(d)}, show the day`,
        on: { click: () => go('day', d) },
      }, `+${hiddenPerDay[c]} more`));
    }
    table.append(row);
  }
  clear(grid).append(table);
}

/** Columns side by side for overlapping timed events of one day: sets `.col` and `.cols`. */
function layoutOverlaps(items) {
  items.sort((a, b) => a.top - b.top || b.bottom - a.bottom);
  let cluster = [];
  let clusterEnd = -1;
  const flush = () => {
    const colsEnd = [];
    for (const it of cluster) {
      let c = colsEnd.findIndex((end) => end <= it.top);
      if (c === -1) { c = colsEnd.length; colsEnd.push(0); }
      colsEnd[c] = it.bottom;
      it.col = c;
    }
    for (const it of cluster) it.cols = colsEnd.length;
    cluster = [];
  };
  for (const it of items) {
    if (cluster.length && it.top >= clusterEnd) flush();
    cluster.push(it);
    clusterEnd = Math.max(clusterEnd, it.bottom);
  }
  if (cluster.length) flush();
}

function renderDays(grid, data, from, days, info) {
  const todayKey = dayKey(new Date());
  const wrap = h('div', { class: `days days-${days}`, cssVars: { '--days': String(days) } });
  // Header: the days.
  const head = h('div', { class: 'days-head' }, h('div', { class: 'days-gutter' }));
  for (let i = 0; i < days; i++) head.append(h('div', { class: 'days-head-cell' }, dayHeader(addDays(from, i), todayKey, days > 1)));
  wrap.append(head);
  // All-day row: all-day and multi-day events as bars across the days.
  const bars = spansIn(data.multi, from, days);
  const lanes = assignLanes(bars, days);
  const allDay = h('div', { class: 'days-allday', role: 'group', 'aria-label': 'All-day and multi-day events' },
    h('div', { class: 'days-gutter small muted', text: 'all-day' }));
  const allDayGrid = h('div', { class: 'days-allday-grid', cssVars: { 'grid-template-rows': `repeat(${Math.max(1, lanes)}, auto)` } });
  for (const it of bars) {
    const btn = eventButton(it.p, info, `cal-bar${it.contLeft ? ' cont-left' : ''}${it.contRight ? ' cont-right' : ''}`,
      [h('span', { class: 'cal-event-title', text: eventTitle(it.p.ev) }),
        it.p.allDay ? null : h('span', { class: 'cal-event-time', text: ` ${time(it.p.startDate)}` })]);
    btn.style.gridColumn = `${it.col + 1} / span ${it.span}`;
    btn.style.gridRow = String(it.lane + 1);
    allDayGrid.append(btn);
  }
  allDay.append(allDayGrid);
  wrap.append(allDay);
  // Timed events, placed by time; overlapping ones side by side.
  const body = h('div', { class: 'days-body' });
  const gutter = h('div', { class: 'days-hours', 'aria-hidden': 'true' });
  for (let hr = 0; hr < 24; hr++) {
    gutter.append(h('div', { class: 'days-hour', cssVars: { top: `${hr * HOUR_PX}px` }, text: hr === 0 ? '' : hourFmt.format(new Date(2000, 0, 1, hr)) }));
  }
  body.append(gutter);
  for (let i = 0; i < days; i++) {
    const d = addDays(from, i);
    const key = dayKey(d);
    const col = h('div', { class: `days-col${key === todayKey ? ' is-today' : ''}`, role: 'group', 'aria-label': fullDayFmt.format(d), dataset: { day: key } });
    const dayStart = d.getTime();
    const dayEnd = addDays(d, 1).getTime();
    const items = [];
    for (const p of data.byDay.get(key) || []) {
      const s = Math.max(p.startDate.getTime(), dayStart);
      const e = Math.min(Math.max(p.endDate.getTime(), s + 15 * 60000), dayEnd);
      const top = ((s - dayStart) / 3600000) * HOUR_PX;
      const bottom = ((e - dayStart) / 3600000) * HOUR_PX;
      items.push({ p, top, bottom: Math.max(bottom, top + HOUR_PX / 2) });
    }
    layoutOverlaps(items);
    for (const it of items) {
      const short = it.bottom - it.top < HOUR_PX * 0.9;
      const btn = eventButton(it.p, info, `cal-timed${short ? ' is-short' : ''}`, [
        h('span', { class: 'cal-event-title', text: eventTitle(it.p.ev) }),
        h('span', { class: 'cal-event-time', text: `${time(it.p.startDate)} – ${time(it.p.endDate)}` }),
        !short && it.p.ev.location ? h('span', { class: 'cal-event-loc', text: it.p.ev.location }) : null,
      ]);
      btn.style.top = `${it.top}px`;
      btn.style.height = `${it.bottom - it.top - 2}px`;
      btn.style.left = `calc(${(100 * it.col) / it.cols}% + 1px)`;
      btn.style.width = `calc(${100 / it.cols}% - 3px)`;
      col.append(btn);
    }
    if (key === todayKey) {
      const now = new Date();
      col.append(h('div', { class: 'days-now', cssVars: { top: `${((now - d) / 3600000) * HOUR_PX}px` }, 'aria-hidden': 'true' }));
    }
    body.append(col);
  }
  const scroller = h('div', { class: 'days-scroll' }, body);
  wrap.append(scroller);
  clear(grid).append(wrap);
  // Start at 7:00, or an hour before the first event if earlier.
  let firstHour = 7;
  for (let i = 0; i < days; i++) {
    const first = (data.byDay.get(dayKey(addDays(from, i))) || [])[0];
    if (first) firstHour = Math.min(firstHour, first.startDate.getHours());
  }
  scroller.scrollTop = Math.max(0, firstHour - 1) * HOUR_PX;
}

// ---- Navigation ------------------------------------------------------------------------------------

let saveTimer = null;
function remember() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    invoke('set_view_state', { view: view.name, date: dayKey(view.date) }).catch(() => {});
  }, 250);
}

export function go(name, date) {
  if (name && VIEWS.includes(name)) view.name = name;
  if (date) view.date = startOfDay(date);
  if (searchActive()) closeSearch(false);
  remember();
  const done = refreshView();
  announce(`${title(view.name, view.date)}, ${view.name === 'agenda' ? 'agenda' : `${view.name} view`}`);
  return done;
}

function today() { return go(null, new Date()); }
function move(dir) { return go(null, step(view.name, view.date, dir)); }

// ---- Search ----------------------------------------------------------------------------------------

let searchSeq = 0;
let searchTimer = null;
window.__calSearchTimings = window.__calSearchTimings || [];

function searchActive() {
  return !$('#search-results').hidden;
}

function closeSearch(refresh = true) {
  $('#search-results').hidden = true;
  $('#search-input').value = '';
  if (refresh) refreshView();
}

async function runSearch(q) {
  const mine = ++searchSeq;
  const query = q.trim();
  const box = $('#search-results');
  const list = $('#search-list');
  const status = $('#search-status');
  if (!query) { if (!box.hidden) closeSearch(); return; }
  box.hidden = false;
  $('#agenda').hidden = true;
  $('#cal-grid').hidden = true;
  status.textContent = 'Searching…';
  const t0 = performance.now();
  let res;
  try {
    res = await invoke('search_events', { query });
  } catch (e) {
    if (mine === searchSeq) { status.textContent = ''; showError(e); }
    return;
  }
  if (mine !== searchSeq) return;
  const events = (res && Array.isArray(res.events)) ? res.events : [];
  const info = calendarInfo();
  clear(list);
  const groups = new Map();
  for (const ev of events) {
    const p = place(ev);
    if (!groups.has(p.startKey)) groups.set(p.startKey, []);
    groups.get(p.startKey).push(p);
  }
  const todayKey = dayKey(new Date());
  for (const [key, items] of groups) {
    const d = dateFromKey(key);
    const headId = `search-day-${key}`;
    const ul = h('ul', { class: 'agenda-list', 'aria-labelledby': headId });
    for (const p of items) {
      const ev = p.ev;
      const color = (info.get(ev.calendar) || {}).color;
      // Its day, then the details; closing them returns focus to the event in that day.
      const open = () => {
        go('day', p.startDate).then(() => {
          const inDay = [...document.querySelectorAll('#cal-grid [data-href]')].find((el) => el.dataset.href === ev.href);
          openDetails(ev, inDay || $('#agenda-title'));
        });
      };
      ul.append(h('li', { class: 'search-hit' },
        h('button', {
          type: 'button', class: `agenda-event search-event${p.allDay ? ' is-all-day' : ''}`,
          'aria-haspopup': 'dialog', dataset: { href: ev.href },
          cssVars: color ? { '--cal-color': color } : {}, on: { click: open },
        },
        h('span', { class: 'agenda-when' }, h('span', { class: 'agenda-time', text: p.allDay ? 'All day' : time(p.startDate) })),
        h('span', { class: 'agenda-bar', 'aria-hidden': 'true' }),
        h('span', { class: 'agenda-what' },
          h('span', { class: 'agenda-title', text: eventTitle(ev) }),
          h('span', { class: 'agenda-meta small muted', text: [ev.location, ev.calendar].filter(Boolean).join(' · ') })))));
    }
    list.append(h('section', { class: `agenda-day${key === todayKey ? ' is-today' : ''}`, 'aria-labelledby': headId },
      h('h3', { class: 'agenda-day-title', id: headId },
        h('span', { class: 'agenda-day-date', text: `${fullDayFmt.format(d)}${d.getFullYear() !== new Date().getFullYear() ? ` ${d.getFullYear()}` : ''}` })),
      ul));
  }
  const n = events.length;
  status.textContent = n === 0
    ? `No events match “${query}”.`
    : `${plural(n, 'event matches', 'events match')} “${query}”${res.more ? ' (the nearest to today are shown)' : ''}. Press Esc to go back.`;
  requestAnimationFrame(() => requestAnimationFrame(() => {
    window.__calSearchTimings.push({ query, results: n, ms: performance.now() - t0 });
  }));
}

// ---- Keyboard --------------------------------------------------------------------------------------

function typing(target) {
  if (!target || !target.closest) return false;
  return !!target.closest('input, textarea, select, [contenteditable="true"]');
}

function anyDialogOpen() {
  return [...document.querySelectorAll('dialog')].some((d) => d.open);
}

function onKey(e) {
  if (currentScreen() !== 'main' || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.target && e.target.id === 'search-input') {
    if (e.key === 'Escape') { e.preventDefault(); closeSearch(); e.target.blur(); }
    return;
  }
  if (anyDialogOpen() || detailsOpen() || typing(e.target)) return;
  if (e.key === 'Escape' && searchActive()) { e.preventDefault(); closeSearch(); return; }
  const t0 = performance.now();
  const act = {
    t: today,
    ArrowLeft: () => move(-1),
    ArrowRight: () => move(1),
    d: () => go('day'),
    w: () => go('week'),
    m: () => go('month'),
    a: () => go('agenda'),
  }[e.key];
  if (act) {
    e.preventDefault();
    pendingKey = { key: e.key, t0 };
    act();
    return;
  }
  if (e.key === '/') {
    e.preventDefault();
    $('#search-input').focus();
  } else if (e.key === '?') {
    e.preventDefault();
    openHelp();
  }
}

let helpReturn = null;
function openHelp() {
  const dlg = $('#help-dialog');
  if (dlg.open) return;
  helpReturn = document.activeElement;
  dlg.showModal();
  $('#btn-help-close').focus();
}

// ---- Wiring ----------------------------------------------------------------------------------------

export async function initCalendarView() {
  agendaHooks.start = () => view.date;
  agendaHooks.refresh = () => { forgetChanged(); return refreshView(); };
  agendaHooks.rendered = (name, n, parts) => { markPainted(name, n, parts); prefetchSoon(); };
  agendaHooks.fetch = (from, to) => fetchRange(from, to).then((d) => d.placed);
  agendaHooks.open = (ev, origin) => openDetails(ev, origin);
  agendaHooks.showDay = (d) => go('day', d);
  $('#btn-today').addEventListener('click', today);
  $('#btn-prev').addEventListener('click', () => move(-1));
  $('#btn-next').addEventListener('click', () => move(1));
  $('#cal-date').addEventListener('change', (e) => {
    const v = e.target.value;
    if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
      pendingKey = { key: 'date', t0: performance.now() };
      go(null, dateFromKey(v));
    }
  });
  for (const b of document.querySelectorAll('.cal-view-btn')) b.addEventListener('click', () => go(b.dataset.view));
  $('#btn-help').addEventListener('click', openHelp);
  $('#btn-help-close').addEventListener('click', () => $('#help-dialog').close());
  $('#help-dialog').addEventListener('close', () => { if (helpReturn && helpReturn.focus) helpReturn.focus(); helpReturn = null; });
  const input = $('#search-input');
  input.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => runSearch(input.value), 180);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); clearTimeout(searchTimer); runSearch(input.value); }
  });
  document.addEventListener('keydown', onKey);
  try {
    const saved = await invoke('get_view_state');
    if (saved && VIEWS.includes(saved.view) && /^\d{4}-\d{2}-\d{2}$/.test(saved.date)) {
      view.name = saved.view;
      view.date = dateFromKey(saved.date);
    }
  } catch (_) { /* first window: today's agenda */ }
  setTitle();
  // The window's first view, asked for now, beside the state, rather than after it.
  const [from, to] = range(view.name, view.date);
  fetchRange(from, to).catch(() => {});
}
