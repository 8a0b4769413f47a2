// Dates, times and counts for people. Times are shown in the computer's local time zone.

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const shortDayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const numberFmt = new Intl.NumberFormat();

export const DAY_MS = 24 * 3600 * 1000;

/** "just now", "2 minutes ago", "in 5 minutes", "yesterday" … */
export function relativeTime(iso, now = Date.now()) {
  if (!iso) return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return null;
  const diff = t - now; // negative: past
  const abs = Math.abs(diff);
  if (abs < 45 * 1000) return diff <= 0 ? 'just now' : 'in a few seconds';
  const units = [
    ['year', 365 * DAY_MS], ['month', 30 * DAY_MS], ['week', 7 * DAY_MS],
    ['day', DAY_MS], ['hour', 3600 * 1000], ['minute', 60 * 1000],
  ];
  for (const [unit, ms] of units) {
    if (abs >= ms || unit === 'minute') {
      return rtf.format(Math.round(diff / ms), unit);
    }
  }
  return null;
}

export function fullDateTime(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : fullFmt.format(new Date(t));
}

export function count(n) {
  return numberFmt.format(n);
}

export function plural(n, one, many) {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** Local midnight of the day containing `d`. */
export function startOfDay(d) {
  const x = new Date(d);
  x.setHours(0, 0, 0, 0);
  return x;
}

export function addDays(d, n) {
  const x = new Date(d);
  x.setDate(x.getDate() + n);
  return x;
}

/** "YYYY-MM-DD" of a local date. */
export function dayKey(d) {
  const y = d.getFullYear();
  const m = String(d.getMonth() + 1).padStart(2, '0');
  const day = String(d.getDate()).padStart(2, '0');
  return `${y}-${m}-${day}`;
}

/** A "YYYY-MM-DD" as a local date at midnight. */
export function dateFromKey(key) {
  const [y, m, d] = key.split('-').map(Number);
  return new Date(y, m - 1, d);
}

export function dayHeading(key, todayKey) {
  const d = dateFromKey(key);
  const tomorrow = dayKey(addDays(dateFromKey(todayKey), 1));
  const rel = key === todayKey ? 'Today' : key === tomorrow ? 'Tomorrow' : null;
  return { rel, full: dayFmt.format(d) };
}

export function time(d) {
  return timeFmt.format(d);
}

export function shortDay(d) {
  return shortDayFmt.format(d);
}

/** The UTC offset written in an RFC 3339 string, in minutes east of UTC, or null. */
export function writtenOffset(s) {
  if (/z$/i.test(s)) return 0;
  const m = /([+-])(\d\d):?(\d\d)$/.exec(s);
  if (!m) return null;
  const v = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -v : v;
}

export function offsetLabel(min) {
  if (min === 0) return 'UTC';
  const sign = min < 0 ? '−' : '+';
  const a = Math.abs(min);
  const hh = String(Math.floor(a / 60)).padStart(2, '0');
  const mm = String(a % 60).padStart(2, '0');
  return `UTC${sign}${hh}:${mm}`;
}

/**
 * Turns an EventOut into a placed occurrence:
 * `{ev, allDay, startDate, endDate, startKey, lastKey}` with local dates; all-day ends are exclusive.
 */
export function place(ev) {
  if (ev.all_day || /^\d{4}-\d{2}-\d{2}$/.test(ev.start)) {
    const start = dateFromKey(ev.start.slice(0, 10));
    let end = ev.end ? dateFromKey(String(ev.end).slice(0, 10)) : addDays(start, 1);
    if (end <= start) end = addDays(start, 1);
    return { ev, allDay: true, startDate: start, endDate: end, startKey: dayKey(start), lastKey: dayKey(addDays(end, -1)) };
  }
  const start = new Date(ev.start);
  let end = ev.end ? new Date(ev.end) : start;
  if (Number.isNaN(end.getTime()) || end < start) end = start;
  // An event ending exactly at midnight belongs to the day before.
  const lastInstant = end > start ? new Date(end.getTime() - 1) : end;
  return { ev, allDay: false, startDate: start, endDate: end, startKey: dayKey(start), lastKey: dayKey(lastInstant) };
}

/**
 * Groups placed occurrences (`place`) by local day for the window [fromDay, fromDay + days). An
 * occurrence that began before the window is shown on the window's first day; each occurrence
 * appears exactly once. Within a day: all-day first (by title), then by start time (then title).
 */
export function groupByDay(placed, fromDay, days) {
  const firstKey = dayKey(fromDay);
  const endKey = dayKey(addDays(fromDay, days));
  const groups = new Map();
  for (const p of placed) {
    if (p.lastKey < firstKey || p.startKey >= endKey) continue;
    const key = p.startKey < firstKey ? firstKey : p.startKey;
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    // The sort keys once per occurrence, not in every comparison: a dense day sorts thousands, and
    // a locale-aware lower-casing per comparison cost seconds at 50,000 events.
    list.push({ p, t: p.startDate.getTime(), title: (p.ev.summary || '').toLocaleLowerCase() });
  }
  const out = [];
  for (const [key, list] of groups) {
    list.sort((a, b) => {
      if (a.p.allDay !== b.p.allDay) return a.p.allDay ? -1 : 1;
      if (!a.p.allDay && a.t !== b.t) return a.t - b.t;
      return a.title < b.title ? -1 : a.title > b.title ? 1 : 0;
    });
    out.push([key, list.map((x) => x.p)]);
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/**
 * What to write in the time column for an occurrence shown on day `key`:
 * `{main, sub, tz}`; tz notes the event's own offset when it differs from the local one.
 */
export function describeWhen(p, key) {
  if (p.allDay) {
    if (p.startKey === p.lastKey) return { main: 'All day', sub: null, tz: null };
    const last = dateFromKey(p.lastKey);
    return { main: 'All day', sub: `${p.startKey < key ? 'since ' + shortDay(p.startDate) + ', ' : ''}until ${shortDay(last)}`, tz: null };
  }
  const sameDay = p.startKey === p.lastKey;
  let main;
  let sub = null;
  if (sameDay) {
    main = p.endDate > p.startDate ? `${time(p.startDate)} – ${time(p.endDate)}` : time(p.startDate);
  } else if (p.startKey < key) {
    main = `Until ${time(p.endDate)}`;
    sub = `started ${shortDay(p.startDate)}, ${time(p.startDate)}`;
    if (p.lastKey !== key) main = `Until ${shortDay(p.endDate)}, ${time(p.endDate)}`;
  } else {
    main = `${time(p.startDate)} – ${shortDay(p.endDate)}, ${time(p.endDate)}`;
  }
  let tz = null;
  const written = writtenOffset(p.ev.start);
  const local = -p.startDate.getTimezoneOffset();
  if (written !== null && written !== local) {
    const there = new Date(p.startDate.getTime() + (written - local) * 60000);
    tz = `${time(there)} ${offsetLabel(written)}`;
  }
  return { main, sub, tz };
}
