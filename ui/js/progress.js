// Turns `sync-progress` events into a real progress bar (and an optional per-calendar list).

import { h, clear, announce } from './dom.js';
import { count, plural } from './format.js';

export class ProgressTracker {
  /**
   * @param {HTMLProgressElement} bar
   * @param {HTMLElement} detail  text under the bar (aria-live)
   * @param {HTMLElement|null} list  per-calendar list, optional
   */
  constructor(bar, detail, list = null, { milestones = true } = {}) {
    this.milestones = milestones;
    this.bar = bar;
    this.detail = detail;
    this.list = list;
    this.reset();
  }

  reset() {
    this.calendars = new Map();
    this.finished = false;
    this.bar.max = 1;
    this.bar.removeAttribute('value'); // indeterminate until we know how much there is
    if (this.list) clear(this.list);
    this.expected = 0;
  }

  /** How many calendars this run will cover, when known: makes the bar move only forward. */
  expect(n) {
    this.expected = Math.max(0, Number(n) || 0);
    this.render(null);
  }

  entry(name) {
    if (!this.calendars.has(name)) {
      this.calendars.set(name, { total: 0, done: 0, finished: false, report: null, li: null });
    }
    return this.calendars.get(name);
  }

  /** Feeds one progress payload. */
  handle(p) {
    if (!p || !p.event) return;
    const name = p.calendar || 'Calendar';
    const c = this.entry(name);
    if (p.event === 'calendar_started') {
      c.total = Number(p.to_fetch) || 0;
      c.done = 0;
    } else if (p.event === 'fetched') {
      c.total = Math.max(c.total, Number(p.total) || 0);
      c.done = Math.min(Number(p.done) || 0, c.total || Infinity);
    } else if (p.event === 'calendar_done') {
      c.finished = true;
      c.report = p.report || null;
      c.done = c.total;
    }
    this.render(name);
    if (p.event === 'calendar_done' && this.milestones) announce(`${name}: done.`);
  }

  totals() {
    let total = 0; let done = 0; let finished = 0;
    for (const c of this.calendars.values()) {
      total += c.total; done += c.done; if (c.finished) finished += 1;
    }
    return { total, done, finished, calendars: this.calendars.size };
  }

  render(changed) {
    const t = this.totals();
    if (this.finished) {
      this.bar.value = 1;
    } else if (this.expected >= t.calendars && this.expected > 0 && t.calendars > 0) {
      // Each calendar is an equal share; within one, the share fills as its objects arrive.
      let sum = 0;
      for (const c of this.calendars.values()) {
        sum += c.finished ? 1 : c.total > 0 ? c.done / c.total : 0;
      }
      this.bar.value = Math.min(sum / this.expected, 0.99);
    } else if (t.total > 0) {
      this.bar.value = Math.min(t.done / t.total, 0.99);
    } else {
      this.bar.removeAttribute('value');
    }
    const current = changed && this.calendars.get(changed);
    let text;
    if (this.finished) {
      text = `Done — ${plural(t.calendars, 'calendar', 'calendars')}, ${plural(t.done, 'event', 'events')} downloaded.`;
    } else if (current && !current.finished && current.total > 0) {
      text = `${changed}: ${count(current.done)} of ${plural(current.total, 'event', 'events')}`;
    } else if (t.calendars > 0) {
      const of = Math.max(this.expected, t.calendars);
      text = `${t.finished} of ${plural(of, 'calendar', 'calendars')} done · ${plural(t.done, 'event', 'events')} downloaded`;
    } else {
      text = 'Connecting…';
    }
    // Not a live region (that would read every batch aloud); milestones are announced instead.
    this.detail.textContent = text;
    if (this.list && changed) this.renderItem(changed);
  }

  renderItem(name) {
    const c = this.calendars.get(name);
    let status;
    let cls = 'cal-progress';
    if (c.finished) {
      cls += ' is-done';
      const r = c.report || {};
      if (r.unchanged) status = 'Up to date';
      else {
        const parts = [plural(c.total || r.fetched || 0, 'event', 'events')];
        if (r.quarantined) parts.push(`${count(r.quarantined)} could not be read`);
        status = parts.join(' · ');
      }
    } else if (c.total > 0) {
      status = `${count(c.done)} of ${count(c.total)}`;
    } else {
      status = 'Checking…';
    }
    const li = h('li', { class: cls },
      h('span', { class: 'cal-progress-mark', 'aria-hidden': 'true' }),
      h('span', { class: 'cal-progress-name', text: name }),
      h('span', { class: 'cal-progress-status muted small', text: status }));
    if (c.li) c.li.replaceWith(li); else this.list.append(li);
    c.li = li;
  }

  /** Marks the whole run as finished (the command returned). */
  finish() {
    if (this.finished) return;
    this.finished = true;
    this.render(null);
    if (this.milestones) announce(this.detail.textContent);
  }
}

/** Where `sync-progress` events go: a wizard's tracker while it runs, else the main view. */
export const progressBus = { sink: null, fallback: null };

export function dispatchProgress(p) {
  const fn = progressBus.sink || progressBus.fallback;
  if (fn) fn(p);
}
