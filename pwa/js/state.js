// What app.js and the screens share: the session state, navigation, sync runs and their
// events, storage and update requests. Screens import this, never app.js (no import circle).
import { syncNow, getAuth } from './sync.js';

// view: the screen module on display (its refresh() runs after a sync brought new data).
export const state = { auth: null, syncing: false, progress: null, reg: null, update: null,
  updating: false, view: null };
const channel = new BroadcastChannel('xunjian');
const listeners = new Set();
export const onSyncEvent = (fn) => { listeners.add(fn); return () => listeners.delete(fn); };

// Sync runs in this page or in the service worker; both report on the channel.
channel.onmessage = async (e) => {
  const msg = e.data;
  if (msg.type === 'sync-start') { state.syncing = true; state.progress = null; }
  if (msg.type === 'progress') state.progress = msg;
  if (msg.type === 'sync-done') state.syncing = false;
  if (msg.type === 'auth') state.auth = await getAuth();
  for (const fn of listeners) fn(msg);
};

export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

export async function sync(opts = {}) {
  if (!state.auth || state.auth.expired) return { ok: false, code: 'auth' };
  // No network: do not try (a failed try would push the ops' next attempt further away).
  if (!navigator.onLine) return { ok: false, code: 'offline' };
  const res = await syncNow(opts);
  if (res.ok && state.view?.refresh) state.view.refresh();
  return res;
}

export async function requestPersist() {
  if (!navigator.storage?.persist) return false;
  if (await navigator.storage.persisted()) return true;
  return navigator.storage.persist();
}

// A record was queued: sync now, and let the browser retry when the app is closed.
export function queued() {
  state.reg?.sync?.register('outbox').catch(() => { /* unsupported or denied */ });
  requestPersist();
  sync();
}

export async function checkUpdate() {
  await state.reg?.update();
  return !!state.reg?.waiting;
}

// The waiting service worker takes over; app.js reloads on its controllerchange.
export async function applyUpdate() {
  // Drafts are saved on every keystroke, so nothing is pending here; flush anyway.
  if (state.view?.leave) await state.view.leave();
  state.updating = true;
  state.update?.postMessage({ type: 'SKIP_WAITING' });
}
