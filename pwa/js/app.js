// Boot, routing, service worker and update banner, and when sync runs.
import { setLang, t, fmtBytes } from './i18n.js';
import { getMeta, count, all } from './db.js';
import { syncNow, getAuth } from './sync.js';
import { h, $, focusHeading, toast } from './ui.js';

const SYNC_EVERY_MS = 60_000;
const views = {
  login: () => import('./views/login.js'),
  home: () => import('./views/home.js'),
  point: () => import('./views/point.js'),
  form: () => import('./views/form.js'),
  outbox: () => import('./views/outbox.js'),
  settings: () => import('./views/settings.js'),
};

export const state = { auth: null, syncing: false, progress: null, reg: null };
const channel = new BroadcastChannel('xunjian');
const listeners = new Set();
export const onSyncEvent = (fn) => { listeners.add(fn); return () => listeners.delete(fn); };

channel.onmessage = (e) => handleSyncEvent(e.data);

function handleSyncEvent(msg) {
  if (msg.type === 'sync-start') { state.syncing = true; state.progress = null; }
  if (msg.type === 'progress') state.progress = msg;
  if (msg.type === 'sync-done') {
    state.syncing = false;
    refreshChrome();
    // Wherever the inspector is, a refused record must not go unnoticed.
    if (msg.rejected) toast(t('sync.rejected_toast', { n: msg.rejected }));
    else if (msg.conflicts) toast(t('sync.conflict_toast', { n: msg.conflicts }));
  }
  if (msg.type === 'auth') { getAuth().then((a) => { state.auth = a; refreshChrome(); }); }
  for (const fn of listeners) fn(msg);
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

let current = null;
async function route() {
  const [name, ...args] = (location.hash.replace(/^#\/?/, '') || 'home').split('/');
  state.auth = await getAuth();
  let view = views[name] ? name : 'home';
  if (!state.auth && view !== 'settings') view = 'login';
  if (current?.leave) await current.leave();
  const mod = await views[view]();
  current = mod;
  await mod.render(...args.map(decodeURIComponent));
  focusHeading();
  if (view === 'form') performance.mark('form-interactive');
  refreshChrome();
}

// Records the server refused and nobody has copied into a new draft yet.
async function refusedCount() {
  return (await all('inspections')).filter((i) => i._sync?.state === 'rejected' && !i._sync.redrafted).length;
}

export async function refreshChrome() {
  const [n, refused, offset] = await Promise.all([count('outbox'), refusedCount(), getMeta('clock_offset')]);
  const nav = $('#nav');
  const link = (hash, label, ...extra) => h('a', { href: hash,
    'aria-current': location.hash.startsWith(hash) ? 'page' : null }, label, ...extra);
  nav.replaceChildren(
    link('#/home', t('nav.points')),
    // One badge: the queue, red with a "!" when the server refused something.
    link('#/outbox', t('nav.outbox'), n || refused ? h(`span.badge${refused ? '.alert' : ''}`, {
      'aria-label': [n ? t('outbox.count', { n }) : '', refused ? t('outbox.refused_count', { n: refused }) : '']
        .filter(Boolean).join(' · ') }, `${n || ''}${refused ? '!' : ''}`) : null),
    link('#/settings', t('nav.settings')),
  );
  const banner = $('#banner');
  const parts = [];
  if (state.auth?.expired) {
    parts.push(h('p.warn', t('auth.expired_banner', { n }), ' ',
      h('a', { href: '#/login' }, t('auth.login_again'))));
  }
  if (!navigator.onLine) parts.push(h('p.info', t(n ? 'net.offline' : 'net.offline_none', { n })));
  // The phone's clock is off (records are dated by the corrected clock; say so once it is far).
  if (Math.abs(offset || 0) > 10 * 60_000) {
    const hrs = Math.abs(offset) / 3600_000;
    parts.push(h('p.warn', t(offset > 0 ? 'clock.behind' : 'clock.ahead', hrs >= 1
      ? { amount: t('clock.hours', { n: Math.round(hrs) }) }
      : { amount: t('clock.minutes', { n: Math.round(hrs * 60) }) })));
  }
  if (state.update) {
    parts.push(h('p.info', t('update.available'), ' ',
      h('button.small', { type: 'button', onclick: applyUpdate }, t('update.apply'))));
  }
  banner.replaceChildren(...parts);
}

export async function sync(opts = {}) {
  if (!state.auth || state.auth.expired) return { ok: false, code: 'auth' };
  // No network: do not try (a failed try would push the ops' next attempt further away).
  if (!navigator.onLine) return { ok: false, code: 'offline' };
  const res = await syncNow(opts);
  if (res.ok && current?.refresh) current.refresh();
  return res;
}

async function registerBackgroundSync() {
  try { await state.reg?.sync?.register('outbox'); } catch (_) { /* unsupported or denied */ }
}
export function queued() {
  registerBackgroundSync();
  requestPersist();
  sync();
}

export async function requestPersist() {
  if (!navigator.storage?.persist) return false;
  if (await navigator.storage.persisted()) return true;
  return navigator.storage.persist();
}

export async function storageText() {
  const est = await navigator.storage?.estimate?.();
  const persisted = await navigator.storage?.persisted?.();
  if (!est) return t('storage.unknown');
  return t('storage.used', { used: fmtBytes(est.usage || 0), quota: fmtBytes(est.quota || 0) })
    + ' · ' + t(persisted ? 'storage.persisted' : 'storage.not_persisted');
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

export async function checkUpdate() {
  await state.reg?.update();
  return !!state.reg?.waiting;
}

async function applyUpdate() {
  // Drafts are saved on every keystroke, so nothing is pending here; flush anyway.
  if (current?.leave) await current.leave();
  state.updating = true;
  state.update?.postMessage({ type: 'SKIP_WAITING' });
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

window.xunjian = { state, sync, go };
boot();
