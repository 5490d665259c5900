// Service worker (module). The server injects the precache list below: one {url, hash} per
// shell file. Install copies unchanged files from the previous cache and fetches only those
// whose hash changed. A new worker waits until the page asks it to take over, and no code
// here ever touches IndexedDB's stores except through the sync module (Background Sync).
import { syncNow } from './js/sync.js';

self.__PRECACHE__ = [];
const PRECACHE = self.__PRECACHE__;
const PREFIX = 'xunjian-shell-';
const HASHES = 'xunjian-hashes';
const listHash = (() => {
  let x = 0;
  for (const c of JSON.stringify(PRECACHE)) x = (Math.imul(x, 31) + c.charCodeAt(0)) | 0;
  return (x >>> 0).toString(16);
})();
const CACHE = PREFIX + listHash;
const SHELL_URL = new URL('./', self.registration.scope).pathname;
const URLS = new Set(PRECACHE.map((p) => p.url));

async function oldHashes() {
  const res = await (await caches.open(HASHES)).match('hashes');
  return res ? res.json() : {};
}

async function install() {
  const cache = await caches.open(CACHE);
  const known = await oldHashes();
  const olds = (await caches.keys()).filter((k) => k.startsWith(PREFIX) && k !== CACHE);
  const reused = [];
  await Promise.all(PRECACHE.map(async ({ url, hash }) => {
    if (await cache.match(url)) return;
    if (known[url] === hash) {
      for (const name of olds) {
        const hit = await (await caches.open(name)).match(url);
        if (hit) { await cache.put(url, hit); reused.push(url); return; }
      }
    }
    const res = await fetch(url, { cache: 'no-cache', credentials: 'same-origin' });
    if (!res.ok) throw new Error(`precache ${url}: ${res.status}`);
    await cache.put(url, res);
  }));
  return reused;
}

self.addEventListener('install', (e) => {
  e.waitUntil(install());
});

self.addEventListener('activate', (e) => {
  e.waitUntil((async () => {
    const hashes = Object.fromEntries(PRECACHE.map((p) => [p.url, p.hash]));
    await (await caches.open(HASHES)).put('hashes', new Response(JSON.stringify(hashes)));
    for (const k of await caches.keys()) {
      if (k.startsWith(PREFIX) && k !== CACHE) await caches.delete(k);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (e) => {
  if (e.data?.type === 'SKIP_WAITING') self.skipWaiting();
});

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === 'navigate' && url.pathname.startsWith(SHELL_URL)) {
    e.respondWith(caches.match(SHELL_URL, { cacheName: CACHE })
      .then((hit) => hit || fetch(req)));
    return;
  }
  if (URLS.has(url.pathname)) {
    e.respondWith(caches.match(url.pathname, { cacheName: CACHE })
      .then((hit) => hit || fetch(req)));
  }
  // Everything else (the API, photos) goes to the network untouched.
});

// Background Sync: the page may be closed when connectivity returns. If a window is open,
// it runs the sync (and shows progress); otherwise this worker does it.
self.addEventListener('sync', (e) => {
  if (e.tag !== 'outbox') return;
  e.waitUntil((async () => {
    const wins = await self.clients.matchAll({ type: 'window' });
    if (wins.length) {
      for (const w of wins) w.postMessage({ type: 'sync-request' });
      return;
    }
    const res = await syncNow();
    // Ask the browser to try again later when the network is still away.
    if (!res.ok && res.code === 'offline') throw new Error('offline');
  })());
});
