// Small DOM helpers: element building (no innerHTML with data), screens, focus, announcements.

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/**
 * Builds an element. `attrs`: `class`, `text`, `dataset` (object), `on` (object of listeners),
 * boolean attributes (true → present), anything else → setAttribute. Children: nodes or strings.
 */
export function h(tag, attrs = {}, ...children) {
  const ns = attrs.ns;
  const el = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false || k === 'ns') continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'cssVars') for (const [p, val] of Object.entries(v)) el.style.setProperty(p, val);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

const SCREENS = ['loading', 'welcome', 'link-wizard', 'main', 'relink-wizard', 'settings'];
let current = 'loading';

export function currentScreen() {
  return current;
}

/** Shows one screen, hides the others, and moves focus to `focusEl` (or the screen's h1). */
export function showScreen(id, focusEl) {
  for (const s of SCREENS) {
    const el = document.getElementById(s);
    if (el) el.hidden = s !== id;
  }
  current = id;
  document.body.dataset.screen = id;
  document.getElementById('content').scrollTop = 0;
  document.dispatchEvent(new CustomEvent('screenchange', { detail: id }));
  const target = focusEl || $(`#${id} h1`);
  focusHeading(target);
}

/** Moves focus to a heading (made focusable with tabindex=-1) after the DOM has updated. */
export function focusHeading(el) {
  if (!el) return;
  if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
  requestAnimationFrame(() => {
    // A frame that comes late (a busy machine) must not take the focus from a field the person has
    // already started typing in: the rest of what they type would go nowhere.
    const a = document.activeElement;
    const typing = a && a !== el && a.offsetParent !== null
      && a.matches('input, textarea, select, [contenteditable="true"]');
    if (!typing) el.focus({ preventScroll: false });
  });
}

/** Shows a step panel inside a wizard: hides its siblings with class wizard-panel. */
export function showPanel(panel, focusEl) {
  const wizard = panel.closest('.screen');
  for (const p of $$('.wizard-panel', wizard)) p.hidden = p !== panel;
  focusHeading(focusEl || $('h1, h2', panel));
}

const ICON_NS = 'http://www.w3.org/2000/svg';

/** Shows an error message in the #error live region. */
export function showError(err) {
  const message = typeof err === 'string' ? err : (err && err.message) || 'Something went wrong.';
  const region = document.getElementById('error');
  clear(region);
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss', on: { click: clearError } },
    h('svg', { ns: ICON_NS, viewBox: '0 0 24 24', class: 'icon icon-small', 'aria-hidden': 'true', focusable: 'false' },
      h('path', { ns: ICON_NS, d: 'M6 6l12 12M18 6 6 18' })));
  region.append(h('div', { class: 'toast' },
    h('svg', { ns: ICON_NS, viewBox: '0 0 24 24', class: 'icon toast-icon', 'aria-hidden': 'true', focusable: 'false' },
      h('circle', { ns: ICON_NS, cx: '12', cy: '12', r: '9' }), h('path', { ns: ICON_NS, d: 'M12 7.5v5.5M12 16.2v.3' })),
    h('p', { class: 'toast-message', text: message }),
    close));
}

export function clearError() {
  clear(document.getElementById('error'));
}

function messageOf(err) {
  return typeof err === 'string' ? err : (err && err.message) || 'Something went wrong. Please try again.';
}

/**
 * An error beside the button it concerns: `slot` is the form's error line under its buttons (empty
 * and hidden until needed, after everything else, so nothing above it moves). `null` clears it.
 */
export function formError(slot, err) {
  const reserved = slot.classList.contains('reserve'); // its room is kept even when empty
  if (err === null || err === undefined) {
    slot.textContent = '';
    if (reserved) slot.classList.add('is-empty'); else slot.hidden = true;
    return;
  }
  slot.textContent = messageOf(err);
  if (reserved) slot.classList.remove('is-empty'); else slot.hidden = false;
  slot.scrollIntoView({ block: 'nearest' });
}

/**
 * An error about one field, in its help line (which keeps its place) until the person edits the
 * field; the field is marked invalid and focused.
 */
export function fieldError(input, line, err) {
  if (!line.classList.contains('is-error')) line.dataset.normal = line.textContent;
  line.textContent = messageOf(err);
  line.classList.add('is-error');
  input.setAttribute('aria-invalid', 'true');
  const restore = () => {
    input.removeEventListener('input', restore);
    input.removeAttribute('aria-invalid');
    if (line.classList.contains('is-error')) {
      line.classList.remove('is-error');
      line.textContent = line.dataset.normal || '';
    }
  };
  input.addEventListener('input', restore);
  input.focus();
}

/** Clears a field's error (see `fieldError`). */
export function clearFieldError(input, line) {
  input.removeAttribute('aria-invalid');
  if (line.classList.contains('is-error')) {
    line.classList.remove('is-error');
    line.textContent = line.dataset.normal || '';
  }
}

/** Polite screen-reader announcement. */
export function announce(text) {
  const a = document.getElementById('announcer');
  a.textContent = '';
  setTimeout(() => { a.textContent = text; }, 30);
}

/** Disables a button and shows it as busy; returns a function that restores it. */
export function busy(button, label) {
  const old = button.querySelector('span') ? null : button.textContent;
  const span = button.querySelector('span');
  const oldSpan = span ? span.textContent : null;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.classList.add('is-busy');
  if (label) {
    if (span) span.textContent = label; else button.textContent = label;
  }
  return () => {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.classList.remove('is-busy');
    if (label) {
      if (span) span.textContent = oldSpan; else button.textContent = old;
    }
  };
}

/** Calls `fn` after `ms` without further calls. */
export function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
