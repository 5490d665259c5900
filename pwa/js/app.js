// Boot, routing, the service worker, and when sync runs. Screens never import this module:
// what they share with it lives in state.js (state, navigation, sync) and widgets.js.
import { setLang, t } from './i18n.js';
import { getMeta } from './db.js';
import { getAuth } from './sync.js';
import { focusHeading, toast } from './ui.js';
import { state, onSyncEvent, sync } from './state.js';
import { refreshChrome } from './chrome.js';

const SYNC_EVERY_MS = 60_000;
const views = {
  login: () => import('./views/login.js'),
  home: () => import('./views/home.js'),
  point: () => import('./views/point.js'),
  today: () => import('./views/today.js'),
  form: () => import('./views/form.js'),
  outbox: () => import('./views/outbox.js'),
  settings: () => import('./views/settings.js'),
};

let acked = 0;
onSyncEvent((msg) => {
  if (msg.type === 'auth') refreshChrome();
  // The badge follows each batch's acks, not only the end of the run (photos may take long).
  if (msg.type === 'progress' && msg.records_done !== acked) {
    acked = msg.records_done;
    refreshChrome();
  }
  if (msg.type !== 'sync-done') return;
  refreshChrome();
  // Wherever the inspector is, a refused record must not go unnoticed.
  if (msg.rejected) toast(t('sync.rejected_toast', { n: msg.rejected }));
  else if (msg.conflicts) toast(t('sync.conflict_toast', { n: msg.conflicts }));
});

async function route() {
  const [name, ...args] = (location.hash.replace(/^#\/?/, '') || 'home').split('/');
  state.auth = await getAuth();
  let view = views[name] ? name : 'home';
  if (!state.auth && view !== 'settings') view = 'login';
  if (state.view?.leave) await state.view.leave();
  const mod = await views[view]();
  state.view = mod;
  await mod.render(...args.map(decodeURIComponent));
  focusHeading();
  if (view === 'form') performance.mark('form-interactive');
  refreshChrome();
}

// Service worker: a new version waits until the user says so; it never touches IndexedDB.
async function registerSW() {
  if (!('serviceWorker' in navigator)) return;
  const reg = await navigator.serviceWorker.register('sw.js', { type: 'module', scope: './' });
  state.reg = reg;
  const waiting = () => { state.update = reg.waiting; refreshChrome(); };
  if (reg.waiting && navigator.serviceWorker.controller) waiting();
  reg.addEventListener('updatefound', () => {
    const nw = reg.installing;
    nw?.addEventListener('statechange', () => {
      if (nw.state === 'installed' && navigator.serviceWorker.controller) waiting();
    });
  });
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloading || !state.updating) return;
    reloading = true;
    location.reload();
  });
  navigator.serviceWorker.addEventListener('message', (e) => {
    if (e.data?.type === 'sync-request') sync();
  });
}

async function boot() {
  // A deep link (a reload on the form): fetch that screen's code while the catalog and
  // IndexedDB open (import() is cached). A bare start may end on the login screen: no guess.
  views[location.hash.replace(/^#\/?/, '').split('/')[0]]?.().catch(() => {});
  await setLang((await getMeta('lang')) || 'zh-CN');
  window.addEventListener('hashchange', route);
  // Back from the villages: everything goes now, whatever the backoff said.
  window.addEventListener('online', () => { refreshChrome(); sync({ force: true }); });
  window.addEventListener('offline', refreshChrome);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') sync();
  });
  setInterval(() => { if (document.visibilityState === 'visible') sync(); }, SYNC_EVERY_MS);
  await route();
  registerSW().catch(() => toast(t('update.sw_failed')));
  sync();
}

window.xunjian = { state, sync };
boot();
