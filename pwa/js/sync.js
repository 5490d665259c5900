// One sync run: upload missing photos (resumable), push due ops, apply acks, pull changes.
// Shared by the page and the service worker (Background Sync); no DOM. Progress and
// completion are broadcast on the 'xunjian' channel so every open screen can follow.
import { tx, req2p, getMeta, setMeta, get, put } from './db.js';
import * as outbox from './outbox.js';
import { uploadAll } from './uploads.js';

const BATCH = 25;
const channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel('xunjian') : null;
const emit = (msg) => { try { channel?.postMessage(msg); } catch (_) { /* closed */ } };

// fetch() rejects with a TypeError when there is no network at all.
const errorCode = (e) => (e instanceof AuthError ? 'auth' : e instanceof TypeError ? 'offline'
  : e.message || 'error');

export class AuthError extends Error {
  constructor(code) { super(code); this.code = code; }
}

export async function getAuth() {
  return getMeta('auth');
}

// fetch() cannot report upload progress. Where XMLHttpRequest exists (the page, not the
// worker), a photo chunk goes through it so the progress bar moves while bytes leave.
function xhrPut(path, body, headers, onBytes) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('PUT', path);
    for (const [k, v] of Object.entries(headers)) x.setRequestHeader(k, v);
    x.upload.onprogress = (e) => onBytes(e.loaded);
    x.onload = () => resolve(new Response(x.status === 204 ? null : x.responseText,
      { status: x.status, headers: { 'Retry-After': x.getResponseHeader('Retry-After') || '' } }));
    x.onerror = x.ontimeout = x.onabort = () => reject(new TypeError('network'));
    x.send(body);
  });
}

// The user a sync run works for. Every request checks that this user is still the one logged
// in, so a logout and another login during a run never send one user's records or photos
// with the other's token.
let runFor = null;

async function api(path, { method = 'GET', body, headers = {}, raw = false, onBytes = null } = {}) {
  const auth = await getAuth();
  if (!auth || !auth.token || auth.expired) throw new AuthError('token_missing');
  if (runFor !== null && auth.user.id !== runFor) throw new AuthError('user_changed');
  const all = { Authorization: `Bearer ${auth.token}`, Accept: 'application/json', ...headers };
  const res = onBytes && typeof XMLHttpRequest !== 'undefined'
    ? await xhrPut(path, body, all, onBytes)
    : await fetch(path, { method, body, cache: 'no-store', headers: all });
  if (res.status === 401) {
    const err = await res.json().catch(() => ({}));
    const code = err?.error?.code || 'token_invalid';
    // Only the login that was used expires (a logout meanwhile stays a logout).
    await tx('meta', 'readwrite', async (s) => {
      const now = await req2p(s.meta.get('auth'));
      if (now?.v?.token === auth.token) s.meta.put({ k: 'auth', v: { ...auth, expired: true, expired_code: code } });
    });
    emit({ type: 'auth', expired: true, code });
    throw new AuthError(code);
  }
  if (raw) return res;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const e = new Error(data?.error?.code || `http_${res.status}`);
    e.status = res.status;
    e.data = data;
    e.retryAfter = Number(res.headers.get('Retry-After')) || 0;
    throw e;
  }
  return data;
}

// Bytes of photos these ops name that the server has not confirmed yet (for the progress bar).
async function pendingBytes(ops) {
  const seen = new Set();
  let n = 0;
  for (const op of ops) {
    for (const p of op.data.photos || []) {
      if (seen.has(p.sha256)) continue;
      seen.add(p.sha256);
      const row = await get('photos', p.sha256);
      if (row?.blob && !row.uploaded) n += row.blob.size;
    }
  }
  return n;
}

async function postSync(payload) {
  const json = JSON.stringify(payload);
  const gzipOk = (await getMeta('gzip_ok', true)) && typeof CompressionStream !== 'undefined';
  if (gzipOk && json.length > 4096) {
    const body = await new Response(
      new Blob([json]).stream().pipeThrough(new CompressionStream('gzip'))).blob();
    try {
      return await api('/api/sync', { method: 'POST', body,
        headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' } });
    } catch (e) {
      if (e.status !== 415) throw e;
      await setMeta('gzip_ok', false); // this server wants plain JSON
    }
  }
  return api('/api/sync', { method: 'POST', body: json,
    headers: { 'Content-Type': 'application/json' } });
}

const SCOPED = ['areas', 'points', 'cycles', 'assignments', 'followups'];
const KINDS = ['areas', 'points', 'templates', 'cycles', 'assignments', 'followups', 'inspections'];

// A template row carries its checklist as `content`; the phone keeps it flat, by "key@version".
function normalize(kind, row) {
  if (kind !== 'templates') return row;
  const { content, ...rest } = row;
  return { ...content, ...rest };
}

// Server rows and the cursor that covers them are written in one transaction. A pulled
// inspection replaces the local copy only when no op for it is waiting in the outbox; an op
// acknowledged in this very response does not count (a conflict's merged record arrives in
// the same reply as its ack and must replace what the phone sent). The server sends only the
// token user's own inspections: they belong to `owner`.
async function applyChanges(changes, cursor, acked, owner) {
  const kinds = KINDS.filter((k) => Array.isArray(changes?.[k]) && changes[k].length);
  await tx([...kinds, 'outbox', 'meta'], 'readwrite', async (s) => {
    for (const kind of kinds) {
      for (const raw of changes[kind]) {
        const row = normalize(kind, raw);
        if (kind === 'inspections') {
          const waiting = await req2p(s.outbox.index('record_id').getAll(row.id));
          if (waiting.some((o) => !acked.has(o.op_id))) continue;
          const mine = await req2p(s.inspections.get(row.id));
          if (mine?._sync) row._sync = mine._sync;
          row._server_rev = row.rev;
          row._owner = owner;
        }
        s[kind].put(row);
      }
    }
    if (cursor !== undefined) s.meta.put({ k: 'cursor', v: cursor });
  });
}

// Keep HLCs near the server's clock when the phone's is off by more than 5 s.
async function noteServerTime(serverTime) {
  const t = Date.parse(serverTime);
  if (Number.isNaN(t)) return;
  const off = t - Date.now();
  await setMeta('clock_offset', Math.abs(off) > 5000 ? off : 0);
}

async function exchange(payload, owner) {
  const res = await postSync(payload);
  await applyChanges(res.changes, res.cursor ?? payload.cursor,
    new Set((res.acks || []).map((a) => a.op_id)), owner);
  if (res.server_time) await noteServerTime(res.server_time);
  return res;
}

async function pushAndPull(ops, prog, owner) {
  const device = await outbox.deviceId();
  const batches = [];
  for (let i = 0; i < ops.length; i += BATCH) batches.push(ops.slice(i, i + BATCH));
  if (!batches.length) batches.push([]);
  const missing = new Set();
  for (let b = 0; b < batches.length; b++) {
    const batch = batches[b];
    const ids = batch.map((o) => o.op_id);
    if (ids.length) await outbox.markSending(ids);
    let res;
    try {
      res = await exchange({ protocol: 1, device_id: device, cursor: await getMeta('cursor'),
        ops: batch.map(({ op_id, type, record_id, base_rev, hlc, data, author }) =>
          ({ op_id, type, record_id, base_rev, hlc, data, author })) }, owner);
    } catch (e) {
      const rest = batches.slice(b).flat().map((o) => o.op_id);
      if (rest.length) await outbox.reschedule(rest, errorCode(e), retryPlan(e));
      throw e;
    }
    const acked = await outbox.applyAcks(res.acks || []);
    const unacked = ids.filter((id) => !acked.includes(id));
    if (unacked.length) await outbox.reschedule(unacked, 'no_ack');
    prog.records_done += acked.length;
    for (const a of res.acks || []) {
      if (a.status === 'rejected') prog.rejected = (prog.rejected || 0) + 1;
      if (a.status === 'conflict') prog.conflicts = (prog.conflicts || 0) + 1;
    }
    for (const sha of res.missing_blobs || []) missing.add(sha);
    let more = res.more;
    for (let guard = 0; more && guard < 200; guard++) {
      const page = await exchange({ protocol: 1, device_id: device,
        cursor: await getMeta('cursor'), ops: [] }, owner);
      for (const sha of page.missing_blobs || []) missing.add(sha);
      more = page.more;
    }
    emit({ type: 'progress', ...prog });
  }
  return missing;
}

// How a failed exchange is retried (sync-protocol.md, "Retry rules").
function retryPlan(e) {
  if (e instanceof AuthError) return { countAttempt: false }; // wait for the login
  if (e.status === 400 || e.status === 403) return { hold: true }; // a bug: no loop
  return { retryAfter: e.retryAfter };
}

// The logged-in user's ops first; then the photos the server says it lacks and this phone
// has for that user's records.
async function run({ force }, me) {
  const ops = await outbox.peek({ force, owner: me });
  const prog = { phase: 'records', records_total: ops.length, records_done: 0,
    bytes_total: await pendingBytes(ops), bytes_done: 0 };
  emit({ type: 'progress', ...prog });
  const missing = await pushAndPull(ops, prog, me);
  const rows = [];
  for (const sha of missing) {
    const row = await get('photos', sha);
    if (row?.blob && !row.refused && (await get('inspections', row.record_id))?._owner === me) rows.push(row);
  }
  await markConfirmed(missing, me);
  prog.phase = 'photos';
  prog.bytes_total = rows.reduce((a, r) => a + r.blob.size, 0);
  prog.bytes_done = 0;
  emit({ type: 'progress', ...prog });
  const failed = await uploadAll(rows, { api, stopOn: (e) => e instanceof AuthError,
    onBytes: (n) => {
      prog.bytes_done = n;
      emit({ type: 'progress', ...prog });
    } });
  await setMeta('last_sync', await outbox.nowIso());
  return { sent: prog.records_done, photos: rows.length - failed, photos_failed: failed,
    rejected: prog.rejected || 0, conflicts: prog.conflicts || 0 };
}

// Photos of acknowledged records that the server no longer lists as missing are on the
// server: remember that, so the outbox screen can say so.
async function markConfirmed(missing, me) {
  await tx(['photos', 'inspections', 'outbox'], 'readwrite', async (s) => {
    const rows = await req2p(s.photos.getAll());
    for (const row of rows) {
      if (row.uploaded || missing.has(row.sha256)) continue;
      if (await req2p(s.outbox.index('record_id').count(row.record_id))) continue;
      const rec = await req2p(s.inspections.get(row.record_id));
      if (rec?._owner === me && rec._sync && rec._sync.state !== 'pending' && rec._sync.state !== 'rejected') {
        s.photos.put({ ...row, uploaded: true });
      }
    }
  });
}

// Entry point. Only one run at a time per origin (Web Locks where present).
export async function syncNow({ force = false } = {}) {
  const go = async () => {
    emit({ type: 'sync-start' });
    runFor = await outbox.currentUser();
    try {
      const result = await run({ force }, runFor);
      emit({ type: 'sync-done', ok: true, ...result });
      return { ok: true, ...result };
    } catch (e) {
      const code = e instanceof AuthError ? 'auth' : errorCode(e);
      emit({ type: 'sync-done', ok: false, code });
      return { ok: false, code };
    } finally {
      runFor = null;
    }
  };
  if (typeof navigator !== 'undefined' && navigator.locks) {
    // "Sync now" while another run holds the lock waits for it and then runs with force:
    // ops that run skipped (not due yet) still go now.
    if (force) return navigator.locks.request('xunjian-sync', () => go());
    return navigator.locks.request('xunjian-sync', { ifAvailable: true },
      (lock) => (lock ? go() : { ok: false, code: 'busy' }));
  }
  return go();
}

// Login is the one call that needs no token. The token and its scope are kept for weeks.
export async function login(username, password) {
  const device = await outbox.deviceId();
  const res = await fetch('/api/auth/login', {
    method: 'POST', cache: 'no-store',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ username, password, device_id: device,
      device_name: await getMeta('device_name', ''), device_proof: await getMeta('device_proof', '') }),
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) return { ok: false, code: data?.error?.code || `http_${res.status}`, error: data?.error,
    retryAfter: Number(res.headers.get('Retry-After')) || 0 };
  const user = data.user;
  const users = { ...(await getMeta('users', {})), [user.id]: user.display_name || user.username };
  const switched = (await getMeta('data_owner')) !== user.id;
  // Another user's scope was on this phone: their points, areas, cycles, assignments and
  // follow-ups go, and the pull starts over. Records and photos stay, each with its author
  // (templates too: immutable versions their drafts may need).
  await tx(['meta', ...(switched ? SCOPED : [])], 'readwrite', (s) => {
    if (switched) {
      for (const k of SCOPED) s[k].clear();
      s.meta.put({ k: 'cursor', v: null });
      s.meta.put({ k: 'data_owner', v: user.id });
    }
    s.meta.put({ k: 'users', v: users });
    // Kept through logout: shows the server this phone held the device (a colleague's login).
    s.meta.put({ k: 'device_proof', v: data.token });
    s.meta.put({ k: 'auth', v: { token: data.token, expires_at: data.expires_at, user,
      limits: data.limits || {}, scope: { role: user.role, area_code: user.area_code },
      logged_in_at: new Date().toISOString(), expired: false } });
  });
  if (data.server_time) await noteServerTime(data.server_time);
  emit({ type: 'auth', expired: false });
  return { ok: true, user: data.user };
}

export async function logout() {
  const auth = await getAuth();
  // A phone that logged in before device proofs existed keeps one now (a colleague's login).
  if (auth?.token && !(await getMeta('device_proof', ''))) await setMeta('device_proof', auth.token);
  if (auth?.token && !auth.expired) {
    try { await api('/api/auth/logout', { method: 'POST' }); } catch (_) { /* offline is fine */ }
  }
  await setMeta('auth', null);
}
