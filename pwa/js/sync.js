// One sync run: upload missing photos (resumable), push due ops, apply acks, pull changes.
// Shared by the page and the service worker (Background Sync); no DOM. Progress and
// completion are broadcast on the 'xunjian' channel so every open screen can follow.
import { tx, req2p, getMeta, setMeta, get, put } from './db.js';
import * as outbox from './outbox.js';

const CHUNK = 256 * 1024;
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

async function api(path, { method = 'GET', body, headers = {}, raw = false } = {}) {
  const auth = await getAuth();
  if (!auth || !auth.token || auth.expired) throw new AuthError('token_missing');
  const res = await fetch(path, {
    method, body, cache: 'no-store',
    headers: { Authorization: `Bearer ${auth.token}`, Accept: 'application/json', ...headers },
  });
  if (res.status === 401) {
    const err = await res.json().catch(() => ({}));
    const code = err?.error?.code || 'token_invalid';
    await setMeta('auth', { ...auth, expired: true, expired_code: code });
    emit({ type: 'auth', expired: true, code });
    throw new AuthError(code);
  }
  if (raw) return res;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const e = new Error(data?.error?.code || `http_${res.status}`);
    e.status = res.status;
    e.data = data;
    throw e;
  }
  return data;
}

// Photos the queued ops reference and the server may not have yet.
async function pendingPhotos(ops) {
  const seen = new Map();
  for (const op of ops) {
    for (const p of op.data.photos || []) {
      if (seen.has(p.sha256)) continue;
      const row = await get('photos', p.sha256);
      if (row && !row.uploaded) seen.set(p.sha256, row);
    }
  }
  return [...seen.values()];
}

async function uploadPhoto(row, progress) {
  const total = row.blob.size;
  const st = await api(`/api/blobs/${row.sha256}/status`);
  let offset = st?.complete ? total : (st?.received || 0);
  progress(offset);
  for (let tries = 0; offset < total && tries < 50; tries++) {
    const end = Math.min(total, offset + CHUNK);
    const res = await api(`/api/blobs/${row.sha256}`, {
      method: 'PUT', raw: true, body: row.blob.slice(offset, end),
      headers: { 'Content-Type': 'application/octet-stream',
        'Content-Range': `bytes ${offset}-${end - 1}/${total}` },
    });
    const data = await res.json().catch(() => ({}));
    if (res.ok) offset = data.complete ? total : (data.received ?? end);
    else if (res.status === 409 && data?.error) offset = data.error.received ?? data.received ?? 0;
    else {
      const e = new Error(data?.error?.code || `http_${res.status}`);
      e.status = res.status;
      throw e;
    }
    progress(offset);
  }
  if (offset < total) throw new Error('upload_stalled');
  await put('photos', { ...row, uploaded: true });
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
      if (e.status !== 400 && e.status !== 415) throw e;
      await setMeta('gzip_ok', false); // this server wants plain JSON
    }
  }
  return api('/api/sync', { method: 'POST', body: json,
    headers: { 'Content-Type': 'application/json' } });
}

const KEYS = { areas: 'code', points: 'code', templates: 'id', cycles: 'id', assignments: 'id',
  followups: 'id', inspections: 'id' };

function normalize(kind, row) {
  if (kind === 'templates') {
    const body = row.body || row.content || row.template || {};
    const t = { ...body, ...row };
    delete t.body; delete t.content; delete t.template;
    t.version = t.version ?? body.version ?? 1;
    t.id = `${t.key}@${t.version}`;
    return t;
  }
  if (kind === 'points' && row.code == null && row.point_code != null) {
    return { ...row, code: row.point_code };
  }
  if (row[KEYS[kind]] == null) return { ...row, [KEYS[kind]]: JSON.stringify(row) };
  return row;
}

// Server changes go into the local copies; a server inspection never overwrites a record
// this phone still has to send.
export async function applyChanges(changes) {
  const kinds = Object.keys(KEYS).filter((k) => Array.isArray(changes?.[k]) && changes[k].length);
  if (!kinds.length) return 0;
  let n = 0;
  await tx(kinds, 'readwrite', async (s) => {
    for (const kind of kinds) {
      for (const raw of changes[kind]) {
        const row = normalize(kind, raw);
        const key = row[KEYS[kind]];
        if (row.deleted) { s[kind].delete(key); n++; continue; }
        if (kind === 'inspections') {
          const mine = await req2p(s[kind].get(key));
          if (mine && mine._sync && mine._sync.state !== 'sent') continue;
          if (mine) row._sync = mine._sync;
          row._server_rev = row.rev;
        }
        s[kind].put(row);
        n++;
      }
    }
  });
  return n;
}

async function pushAndPull(ops, prog) {
  const device = await outbox.deviceId();
  let cursor = await getMeta('cursor');
  const batches = [];
  for (let i = 0; i < ops.length; i += BATCH) batches.push(ops.slice(i, i + BATCH));
  if (!batches.length) batches.push([]);
  let missing = [];
  for (let b = 0; b < batches.length; b++) {
    const batch = batches[b];
    const ids = batch.map((o) => o.op_id);
    if (ids.length) await outbox.markSending(ids);
    let res;
    try {
      res = await postSync({ protocol: 1, device_id: device, cursor,
        ops: batch.map(({ op_id, type, record_id, base_rev, hlc, data }) =>
          ({ op_id, type, record_id, base_rev, hlc, data })) });
    } catch (e) {
      const isAuth = e instanceof AuthError;
      for (const rest of batches.slice(b)) {
        const restIds = rest.map((o) => o.op_id);
        if (restIds.length) await outbox.reschedule(restIds, errorCode(e), { countAttempt: !isAuth });
      }
      throw e;
    }
    const acked = await outbox.applyAcks(res.acks || []);
    const unacked = ids.filter((id) => !acked.includes(id));
    if (unacked.length) await outbox.reschedule(unacked, 'no_ack');
    prog.records_done += acked.length;
    await applyChanges(res.changes);
    missing = missing.concat(res.missing_blobs || []);
    cursor = res.cursor ?? cursor;
    await setMeta('cursor', cursor);
    let more = res.more;
    for (let guard = 0; more && guard < 200; guard++) {
      const page = await postSync({ protocol: 1, device_id: device, cursor, ops: [] });
      await applyChanges(page.changes);
      cursor = page.cursor ?? cursor;
      await setMeta('cursor', cursor);
      more = page.more;
    }
    if (res.server_time) await setMeta('server_time', res.server_time);
    emit({ type: 'progress', ...prog });
  }
  // The server says it lacks these photos: upload them again on the next run.
  for (const sha of missing) {
    const row = await get('photos', sha);
    if (row) await put('photos', { ...row, uploaded: false });
  }
  return missing.length;
}

async function run({ force }) {
  const ops = await outbox.peek({ force });
  const photos = await pendingPhotos(ops);
  const prog = { phase: 'photos', records_total: ops.length, records_done: 0,
    bytes_total: photos.reduce((a, p) => a + p.blob.size, 0), bytes_done: 0 };
  emit({ type: 'progress', ...prog });
  const failed = new Set();
  let lastPhotoError = null;
  let base = 0;
  for (const row of photos) {
    try {
      await uploadPhoto(row, (n) => {
        prog.bytes_done = base + n;
        emit({ type: 'progress', ...prog });
      });
    } catch (e) {
      if (e instanceof AuthError) {
        await outbox.reschedule(ops.map((o) => o.op_id), e.code, { countAttempt: false });
        throw e;
      }
      failed.add(row.sha256);
      lastPhotoError = errorCode(e);
    }
    base += row.blob.size;
  }
  // An op goes out only once all its photos are on the server.
  const ready = ops.filter((o) => !(o.data.photos || []).some((p) => failed.has(p.sha256)));
  const blocked = ops.filter((o) => !ready.includes(o)).map((o) => o.op_id);
  if (blocked.length) await outbox.reschedule(blocked, lastPhotoError || 'photo_upload_failed');
  prog.phase = 'records';
  const missing = await pushAndPull(ready, prog);
  await setMeta('last_sync', new Date().toISOString());
  return { sent: prog.records_done, blocked: blocked.length, missing };
}

// Entry point. Only one run at a time per origin (Web Locks where present).
export async function syncNow({ force = false } = {}) {
  const go = async () => {
    emit({ type: 'sync-start' });
    try {
      const result = await run({ force });
      emit({ type: 'sync-done', ok: true, ...result });
      return { ok: true, ...result };
    } catch (e) {
      const code = e instanceof AuthError ? 'auth' : errorCode(e);
      emit({ type: 'sync-done', ok: false, code });
      return { ok: false, code };
    }
  };
  if (typeof navigator !== 'undefined' && navigator.locks) {
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
      device_name: (typeof navigator !== 'undefined' && navigator.userAgent || '').slice(0, 120) }),
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) return { ok: false, code: data?.error?.code || `http_${res.status}`, error: data?.error };
  const prev = await getAuth();
  // A different inspector on this phone starts from a fresh cursor; the outbox stays.
  if (prev?.user?.username && prev.user.username !== data.user.username) await setMeta('cursor', null);
  await setMeta('auth', { token: data.token, expires_at: data.expires_at, user: data.user,
    limits: data.limits || {}, scope: { role: data.user.role, area_code: data.user.area_code },
    logged_in_at: new Date().toISOString(), expired: false });
  emit({ type: 'auth', expired: false });
  return { ok: true, user: data.user };
}

export async function logout() {
  const auth = await getAuth();
  if (auth?.token && !auth.expired) {
    try { await api('/api/auth/logout', { method: 'POST' }); } catch (_) { /* offline is fine */ }
  }
  await setMeta('auth', null);
}
