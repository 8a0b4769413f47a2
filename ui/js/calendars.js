// A calendar row: color, name, count and a show/hide switch (set_calendar_hidden).

import { h, showError } from './dom.js';
import { invoke } from './ipc.js';
import { plural } from './format.js';

/** `#RRGGBB` from the server's `#RRGGBBAA`, or null. */
export function cssColor(color) {
  if (typeof color !== 'string') return null;
  const m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color.trim());
  return m ? `#${m[1]}` : null;
}

let uid = 0;

export function calendarRow(acc, cal, onChanged) {
  const id = `cal-toggle-${++uid}`;
  const color = cssColor(cal.color);
  const input = h('input', {
    type: 'checkbox', id, class: 'switch', role: 'switch', checked: !cal.hidden,
    'aria-label': `Show ${cal.display_name || cal.id} in the agenda`,
    'aria-describedby': `${id}-meta`,
    dataset: { calKey: `${acc.apple_id}|${cal.id}` },
  });
  input.addEventListener('change', async () => {
    const hidden = !input.checked;
    // Not `disabled`: that would drop keyboard focus.
    input.setAttribute('aria-busy', 'true');
    try {
      await invoke('set_calendar_hidden', { appleId: acc.apple_id, calendarId: cal.id, hidden });
      if (onChanged) onChanged();
    } catch (e) {
      input.checked = !hidden;
      showError(e);
    } finally {
      input.removeAttribute('aria-busy');
    }
  });
  const meta = [plural(Number(cal.event_count) || 0, 'event', 'events')];
  if (cal.read_only) meta.push('read-only');
  return h('li', { class: `calendar-row${cal.hidden ? ' is-hidden' : ''}`, cssVars: color ? { '--cal-color': color } : {} },
    h('span', { class: 'swatch', 'aria-hidden': 'true' }),
    h('label', { for: id, class: 'calendar-name' },
      h('span', { text: cal.display_name || cal.id }),
      h('span', { id: `${id}-meta`, class: 'calendar-meta small muted', text: meta.join(' · ') })),
    input);
}

/** Re-renders `fn` inside `container`, keeping keyboard focus on the same calendar switch. */
export function keepingFocus(container, fn) {
  const active = document.activeElement;
  const key = active && container.contains(active) && active.dataset ? active.dataset.calKey : null;
  fn();
  if (key) {
    const again = [...container.querySelectorAll('[data-cal-key]')].find((el) => el.dataset.calKey === key);
    if (again) again.focus();
  }
}
