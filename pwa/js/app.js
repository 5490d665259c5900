// Boot, routing, service worker and update banner, and when sync runs.
import { setLang, t, fmtBytes } from './i18n.js';
import { getMeta, count } from './db.js';
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
  if (msg.type === 'sync-start') state.syncing = true;
  if (msg.type === 'progress') state.progress = msg;
  if (msg.type === 'sync-done') { state.syncing = false; refreshChrome(); }
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

export async function refreshChrome() {
  const n = await count('outbox');
  const nav = $('#nav');
  const link = (hash, label, extra) => h('a', { href: hash,
    'aria-current': location.hash.startsWith(hash) ? 'page' : null }, label, extra);
  nav.replaceChildren(
    link('#/home', t('nav.points')),
    link('#/outbox', t('nav.outbox'), n ? h('span.badge', { 'aria-label': t('outbox.count', { n }) }, String(n)) : null),
    link('#/settings', t('nav.settings')),
  );
  const banner = $('#banner');
  const parts = [];
  if (state.auth?.expired) {
    parts.push(h('p.warn', t('auth.expired_banner', { n }), ' ',
      h('a', { href: '#/login' }, t('auth.login_again'))));
  }
  if (!navigator.onLine) parts.push(h('p.info', t('net.offline', { n })));
  if (state.update) {
    parts.push(h('p.info', t('update.available'), ' ',
      h('button.small', { type: 'button', onclick: applyUpdate }, t('update.apply'))));
  }
  banner.replaceChildren(...parts);
}

export async function sync(opts = {}) {
  if (!state.auth || state.auth.expired) return { ok: false, code: 'auth' };
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
  await setLang((await getMeta('lang')) || 'zh-CN');
  window.addEventListener('hashchange', route);
  window.addEventListener('online', () => { refreshChrome(); sync(); });
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
