// IndexedDB: the phone's only copy of drafts, the outbox and photos until the server acks.
// Rules: upgrades are additive `if (oldVersion < N)` steps and never delete a store that can
// hold unsynced records (outbox, inspections, photos); no fetch is awaited inside a
// transaction; the write that finalizes an inspection uses {durability: 'strict'}.
// This module must work in the service worker too: no DOM.

export const DB_NAME = 'xunjian';
export const DB_VERSION = 2;

let dbPromise = null;

function upgrade(db, oldVersion, t) {
  if (oldVersion < 1) {
    db.createObjectStore('meta', { keyPath: 'k' });
    db.createObjectStore('areas', { keyPath: 'code' });
    db.createObjectStore('points', { keyPath: 'code' });
    db.createObjectStore('templates', { keyPath: 'id' });
    db.createObjectStore('cycles', { keyPath: 'id' });
    db.createObjectStore('assignments', { keyPath: 'id' });
    const f = db.createObjectStore('followups', { keyPath: 'id' });
    f.createIndex('point_code', 'point_code');
    const ins = db.createObjectStore('inspections', { keyPath: 'id' });
    ins.createIndex('point_code', 'point_code');
    const ob = db.createObjectStore('outbox', { keyPath: 'op_id' });
    ob.createIndex('record_id', 'record_id');
    const ph = db.createObjectStore('photos', { keyPath: 'sha256' });
    ph.createIndex('record_id', 'record_id');
  }
  if (oldVersion === 1) ownersOfV1(t);
  // Next version: `if (oldVersion < 3) { ... }` - add, never drop outbox/inspections/photos.
}

// Version 2: every record and op belongs to the user who made it (records `_owner`, ops
// `owner`: a user id). Version 1 showed everything to whoever was logged in, so the user
// logged in now (even with an expired login) made them. With nobody logged in they stay
// unowned (null) until a user claims them on the outbox screen: never guessed onto the next
// login. `data_owner`: whose scope the points, areas, cycles, ... on the phone are.
function ownersOfV1(t) {
  const meta = t.objectStore('meta');
  meta.get('auth').onsuccess = (e) => {
    const user = e.target.result?.v?.user;
    const owner = user?.id ?? null;
    if (user) meta.put({ k: 'users', v: { [user.id]: user.display_name || user.username } });
    meta.put({ k: 'data_owner', v: owner });
    for (const [store, field] of [['inspections', '_owner'], ['outbox', 'owner']]) {
      t.objectStore(store).openCursor().onsuccess = (ev) => {
        const c = ev.target.result;
        if (!c) return;
        if (c.value[field] === undefined) c.update({ ...c.value, [field]: owner });
        c.continue();
      };
    }
  };
}

const req2p = (req) => new Promise((resolve, reject) => {
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});

export function openDB() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = (e) => upgrade(req.result, e.oldVersion, req.transaction);
      req.onsuccess = () => {
        const db = req.result;
        // Another tab (or a new app version) wants to upgrade: step aside, reopen later.
        db.onversionchange = () => { db.close(); dbPromise = null; };
        resolve(db);
      };
      req.onerror = () => { dbPromise = null; reject(req.error); };
      req.onblocked = () => {};
    });
  }
  return dbPromise;
}

// Runs fn(stores) inside one transaction; resolves with fn's result once the transaction
// has committed. fn must only queue IDB requests (no other awaits).
export async function tx(names, mode, fn, opts) {
  const db = await openDB();
  const list = Array.isArray(names) ? names : [names];
  const t = opts ? db.transaction(list, mode, opts) : db.transaction(list, mode);
  const stores = Object.fromEntries(list.map((n) => [n, t.objectStore(n)]));
  let result;
  const done = new Promise((resolve, reject) => {
    t.oncomplete = () => resolve();
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transaction aborted'));
  });
  done.catch(() => {});
  try {
    result = await fn(stores, t);
  } catch (err) {
    try { t.abort(); } catch (_) { /* already finished */ }
    throw err;
  }
  await done;
  return result;
}

export const get = (store, key) => tx(store, 'readonly', (s) => req2p(s[store].get(key)));
export const all = (store) => tx(store, 'readonly', (s) => req2p(s[store].getAll()));
export const count = (store) => tx(store, 'readonly', (s) => req2p(s[store].count()));
export const put = (store, value, opts) =>
  tx(store, 'readwrite', (s) => req2p(s[store].put(value)), opts);
export const del = (store, key) => tx(store, 'readwrite', (s) => req2p(s[store].delete(key)));
export const byIndex = (store, index, key) =>
  tx(store, 'readonly', (s) => req2p(s[store].index(index).getAll(key)));

export async function getMeta(k, fallback = null) {
  const row = await get('meta', k);
  return row ? row.v : fallback;
}
export const setMeta = (k, v) => put('meta', { k, v });

export { req2p };
