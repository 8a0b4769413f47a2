// Entry module. Loads the dev mock only for `?mock` outside the app, wires the screens to the
// backend's events and routes between screens.

import { $, showScreen, currentScreen, showError } from './js/dom.js';
import { invoke, listen } from './js/ipc.js';
import { store, reload, subscribe, policyValue } from './js/store.js';
import { dispatchProgress, progressBus } from './js/progress.js';
import { wireRevealButtons } from './js/password.js';
import { initLink, openLinkWizard, startDemo } from './js/link.js';
import { initRelink, openRelink, isVerifying } from './js/relink.js';
import { initMain, renderMain, mainProgress } from './js/main-view.js';
import { refreshAgenda, refreshIfDayChanged } from './js/agenda.js';
import { initSettings, openSettings, renderSettings, settingsVisible } from './js/settings.js';
import { initDemo, renderDemo } from './js/demo.js';
import { initCalendarView, refreshView } from './js/calendar-view.js';
import { initEventDetails } from './js/event-details.js';

function hasAccounts() {
  // A subscription alone (no account) is enough for the main window.
  return store.state.accounts.length > 0 || (store.state.subscriptions || []).length > 0;
}

function goHome() {
  if (hasAccounts()) {
    showScreen('main');
    refreshAgenda();
  } else {
    showScreen('welcome');
  }
  updateChrome();
}

/** The window's first screen; resolves once the main screen's view has its first content. */
function firstHome() {
  if (!hasAccounts()) {
    goHome();
    return Promise.resolve();
  }
  showScreen('main');
  updateChrome();
  // From what initCalendarView asked for, not invalidated: nothing has changed since (a sync that
  // lands later refreshes as always).
  return refreshView();
}

function updateChrome() {
  const scr = currentScreen();
  $('#btn-settings').hidden = !(hasAccounts() && (scr === 'main'));
  const pol = store.state.policy || {};
  const demoAllowed = policyValue('allowDemo') ?? pol.allowDemo ?? pol.allow_demo;
  const demoOff = demoAllowed === false || demoAllowed === 'false';
  $('#btn-demo').disabled = demoOff;
  $('#demo-locked-note').hidden = !demoOff;
  $('#demo-note').hidden = demoOff;
}

function onState(state) {
  if (state.pendingRelink && !isVerifying()) {
    // "Fix now" from a notification that started or showed this window.
    openRelink(state.pendingRelink);
  }
  renderMain(state);
  renderDemo(state);
  if (settingsVisible()) renderSettings(state);
  const scr = currentScreen();
  // Linked or unlinked elsewhere (CLI, tray): follow.
  if (scr === 'welcome' && hasAccounts()) goHome();
  if (!hasAccounts() && !['welcome', 'link-wizard', 'loading'].includes(scr) && !isVerifying()) goHome();
  updateChrome();
}

let agendaTimer = null;
function refreshAgendaSoon() {
  clearTimeout(agendaTimer);
  agendaTimer = setTimeout(() => { if (currentScreen() === 'main') refreshAgenda(); }, 300);
}

// When the page's start reached each step (ms since its navigation began), for the app's log.
const marks = {};
const mark = (step) => { marks[step] = performance.now(); };

async function boot() {
  mark('script');
  const params = new URLSearchParams(location.search);
  if (params.has('mock') && !window.__TAURI__) {
    await import('./dev/mock-tauri.js');
  }

  wireRevealButtons();
  initLink({ done: goHome, cancel: goHome });
  initRelink({ done: goHome, cancel: goHome });
  initMain({ openRelink, openLink: openLinkWizard });
  initSettings({ back: goHome, unlinked: goHome });
  initDemo();
  initEventDetails();
  progressBus.fallback = mainProgress;
  subscribe(onState);

  $('#btn-link').addEventListener('click', openLinkWizard);
  $('#btn-demo').addEventListener('click', startDemo);
  $('#btn-settings').addEventListener('click', openSettings);
  document.addEventListener('screenchange', updateChrome);

  // The listeners and the last window's view and date are asked for together (each is a round trip
  // to the app); the state comes after both, so nothing is drawn before the view is known.
  const listening = Promise.all([
    listen('sync-progress', dispatchProgress),
    listen('state-changed', () => { reload().then(refreshAgendaSoon).catch(showError); }),
    listen('open-relink', (p) => {
      const appleId = p && (p.appleId || p.apple_id);
      if (!isVerifying()) openRelink(appleId);
    }),
  ]).catch(showError);
  await Promise.all([listening, initCalendarView().catch(showError)]);
  mark('listening');

  let first = null;
  try {
    first = await reload();
  } catch (e) {
    showError(e);
  }
  mark('state');
  // Started from a notification's "Fix now": onState already opens the wizard (pendingRelink);
  // `#relink=ID` in the URL does the same.
  const m = /^#relink=(.+)$/.exec(location.hash);
  let home = null;
  if (m && hasAccounts()) openRelink(decodeURIComponent(m[1]));
  else if (!(first && first.pendingRelink) && currentScreen() === 'loading') home = firstHome();
  setInterval(refreshIfDayChanged, 60 * 1000);
  // The view's events (asked for with the state) in place before the window shows, so it opens on
  // them rather than on "Loading your events…"; a slow answer (a large cache right after a sync)
  // holds the window back by 250 ms at most.
  if (home) await Promise.race([home.catch(() => {}), new Promise((r) => { setTimeout(r, 250); })]);
  mark('view');
  document.body.classList.add('is-ready');
  // The window was created hidden; it shows now, with this content, never as a blank page.
  mark('ready');
  invoke('window_ready', { marks }).catch(() => {});
}

boot();
