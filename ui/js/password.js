// The live format check for app-specific passwords: asks the backend (`check_password`) as the person
// types, normalises pasted text (spaces, capitals, missing hyphens), and warns — it never blocks.

import { invoke } from './ipc.js';
import { debounce } from './dom.js';

const NEUTRAL = '16 lowercase letters in four groups, like abcd-efgh-ijkl-mnop.';
const OTHER_SERVER = 'The password this server gave you for calendar apps.';
const OK = 'Looks like an app-specific password.';
const WARN = 'This does not look like an app-specific password (16 lowercase letters in four groups, like abcd-efgh-ijkl-mnop). Your regular Apple ID password will not work here — you can still try.';

// Same rules as connector's icloud::asp, used only when the backend cannot be asked.
function localCheck(input) {
  const t = input.trim();
  const letters = t.toLowerCase().replace(/[- ]/g, '');
  const normalized = /^[a-z]{16}$/.test(letters) ? letters.match(/.{4}/g).join('-') : t;
  return { normalized, looksLikeAsp: /^[a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4}$/.test(normalized) };
}

/** Whether `url` is one of Apple's servers (the same rule as connector's `asp::is_apple_server`). */
export function isAppleServer(url) {
  let host = '';
  try { host = new URL(String(url || '')).hostname.toLowerCase(); } catch { return false; }
  return ['icloud.com', 'icloud.com.cn', 'apple.com'].some((d) => host === d || host.endsWith(`.${d}`));
}

/**
 * Wires a password field and its hint. `forApple()` says whether the password is for Apple's servers:
 * only then does the hint speak of app-specific passwords (a Radicale or Xandikos password gets no
 * iCloud advice). Returns `{reset(), normalizeNow(), refresh()}`.
 */
export function attachPasswordCheck(input, hint, forApple = () => true) {
  let seq = 0;
  let pasted = false;

  function setHint(kind, text) {
    hint.classList.remove('is-error');
    hint.textContent = text;
    hint.classList.toggle('hint-ok', kind === 'ok');
    hint.classList.toggle('hint-warning', kind === 'warn');
    if (kind === 'warn') input.setAttribute('aria-invalid', 'false');
  }

  async function check(applyNormalized) {
    const value = input.value;
    const mine = ++seq;
    if (!forApple()) {
      setHint('neutral', OTHER_SERVER);
      return;
    }
    if (!value.trim()) {
      setHint('neutral', NEUTRAL);
      return;
    }
    let res;
    try {
      res = await invoke('check_password', { input: value });
    } catch {
      res = localCheck(value);
    }
    if (mine !== seq || input.value !== value) return; // stale answer
    const normalized = typeof res.normalized === 'string' ? res.normalized : value;
    if (applyNormalized && normalized !== value) {
      input.value = normalized;
    }
    if (res.looksLikeAsp) setHint('ok', OK);
    else setHint('warn', WARN);
  }

  const later = debounce(() => check(false), 250);

  input.addEventListener('paste', () => { pasted = true; });
  input.addEventListener('input', (e) => {
    if (pasted || (e && e.inputType === 'insertFromPaste')) {
      pasted = false;
      check(true);
    } else {
      later();
    }
  });
  input.addEventListener('blur', () => check(true));

  return {
    reset() {
      seq += 1;
      input.value = '';
      input.removeAttribute('aria-invalid');
      setHint('neutral', forApple() ? NEUTRAL : OTHER_SERVER);
    },
    /** Re-reads `forApple()` (the server changed). */
    refresh: () => check(false),
    /** Normalises now (before sending). */
    normalizeNow: () => check(true),
  };
}

/** "Show"/"Hide" buttons next to password fields. */
export function wireRevealButtons(root = document) {
  for (const btn of root.querySelectorAll('.btn-reveal')) {
    btn.addEventListener('click', () => {
      const input = document.getElementById(btn.dataset.reveal);
      const show = input.type === 'password';
      input.type = show ? 'text' : 'password';
      btn.textContent = show ? 'Hide' : 'Show';
      btn.setAttribute('aria-pressed', String(show));
      btn.setAttribute('aria-label', show ? 'Hide password' : 'Show password');
      input.focus();
    });
  }
}

export function hidePassword(input) {
  input.type = 'password';
  const btn = document.querySelector(`.btn-reveal[data-reveal="${input.id}"]`);
  if (btn) {
    btn.textContent = 'Show';
    btn.setAttribute('aria-pressed', 'false');
  }
}
