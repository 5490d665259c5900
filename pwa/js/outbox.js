// The outbox: one op per submitted inspection. Peek, send, and delete an op only when the
// server has acknowledged its op_id (applied, conflict or rejected). A failed send only
// reschedules; nothing here ever drops an op on an error. No DOM: also used by the worker.
// A phone may be shared: every record (`_owner`) and op (`owner`, and `author` on the wire)
// belongs to the user who made it, and only that user sees it or sends it.
import { tx, req2p, getMeta, setMeta, all, get } from './db.js';

const STRICT = { durability: 'strict' };
// sync-protocol.md: delay = min(60 s, 0.5 s x 2^attempt), then between half and all of it.
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 60_000;
const HOLD_MS = 24 * 3600_000;

export const uuid = () => crypto.randomUUID();

// The user logged in on this phone (also while the login has expired), or null.
export const currentUser = async () => (await getMeta('auth'))?.user?.id ?? null;

export async function deviceId() {
  let id = await getMeta('device_id');
  if (!id) {
    id = 'd-' + uuid();
    await setMeta('device_id', id);
  }
  return id;
}

// The phone's clock corrected by the server's (sync-protocol.md, "Clocks"), so a phone whose
// clock is a day off still dates its records (and picks its cycle) right.
export async function nowMs() {
  return Date.now() + ((await getMeta('clock_offset')) || 0);
}
export const nowIso = async () => new Date(await nowMs()).toISOString();

// Hybrid logical clock "<16-digit ms>:<4-digit counter>:<device>", monotonic on this phone
// even when its wall clock jumps backwards.
export async function nextHlc(device) {
  const last = (await getMeta('hlc')) || { ms: 0, n: 0 };
  const now = await nowMs();
  const next = now > last.ms ? { ms: now, n: 0 } : { ms: last.ms, n: last.n + 1 };
  await setMeta('hlc', next);
  return `${String(next.ms).padStart(16, '0')}:${String(next.n).padStart(4, '0')}:${device}`;
}

// Wire shape of an inspection (architecture.md): local bookkeeping fields start with '_'.
export function wireRecord(rec) {
  const out = {};
  for (const [k, v] of Object.entries(rec)) if (!k.startsWith('_')) out[k] = v;
  return out;
}

// Finalize: the submitted record and its op are written in one strict transaction, so a
// crash leaves either a draft or a queued submission, never half of one.
export async function submit(record) {
  const device = await deviceId();
  const hlc = await nextHlc(device);
  const now = await nowIso();
  const rec = {
    ...record, status: 'submitted', submitted_at: now, device_id: device,
    rev: (record.rev || 0) + 1, _sync: { state: 'pending', at: now }, _updated: now,
  };
  const op = {
    op_id: uuid(), type: 'inspection.put', record_id: rec.id, base_rev: record._server_rev || 0,
    hlc, data: wireRecord(rec), state: 'pending', attempts: 0, next_at: 0, created_at: now,
    owner: rec._owner, author: rec._owner ?? undefined,
  };
  await tx(['inspections', 'outbox'], 'readwrite', (s) => {
    s.inspections.put(rec);
    s.outbox.put(op);
  }, STRICT);
  return rec;
}

// One user's ops (owner: a user id; null: ops an older version left without one).
export const ops = async (owner) => (await all('outbox')).filter((o) => o.owner === owner);

// The user's ops due now (or all of them when forced), oldest first.
export async function peek({ owner, force = false, limit = 1000 }) {
  const now = Date.now();
  const list = (await ops(owner)).filter((o) => force || !o.next_at || o.next_at <= now);
  list.sort((a, b) => (a.hlc < b.hlc ? -1 : 1));
  return list.slice(0, limit);
}

async function setStates(opIds, state, patchOp) {
  await tx(['outbox', 'inspections'], 'readwrite', async (s) => {
    for (const id of opIds) {
      const op = await req2p(s.outbox.get(id));
      if (!op) continue;
      Object.assign(op, { state }, patchOp ? patchOp(op) : {});
      s.outbox.put(op);
      const rec = await req2p(s.inspections.get(op.record_id));
      if (rec) {
        rec._sync = { ...(rec._sync || {}), state, error: op.last_error || null,
          next_at: op.next_at || 0 };
        s.inspections.put(rec);
      }
    }
  });
}

export const markSending = (opIds) => setStates(opIds, 'sending');

// The send failed (network, 5xx, expired token, a 400 that retrying cannot fix): keep the
// op and try again later; "sync now" always tries at once.
export function reschedule(opIds, error, { countAttempt = true, retryAfter = 0, hold = false } = {}) {
  return setStates(opIds, 'pending', (op) => {
    const attempts = (op.attempts || 0) + (countAttempt ? 1 : 0);
    const wait = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempts);
    const delay = hold ? HOLD_MS : Math.max(retryAfter * 1000, wait * (0.5 + Math.random() / 2));
    return { attempts, last_error: error || null,
      next_at: countAttempt || hold ? Date.now() + Math.round(delay) : 0 };
  });
}

const ACK_STATE = { applied: 'sent', conflict: 'conflict', rejected: 'rejected' };

// Only here does an op leave the phone: its ack arrived.
export async function applyAcks(acks) {
  const now = new Date().toISOString();
  const done = [];
  await tx(['outbox', 'inspections'], 'readwrite', async (s) => {
    for (const ack of acks) {
      const op = await req2p(s.outbox.get(ack.op_id));
      if (!op) continue;
      const rec = await req2p(s.inspections.get(op.record_id));
      if (rec) {
        rec._sync = {
          state: ACK_STATE[ack.status] || 'rejected', at: now, code: ack.code || null,
          message_zh: ack.message_zh || null, message_en: ack.message_en || null,
          conflict_id: ack.conflict_id || null, field: ack.field || null,
        };
        if (ack.rev != null) { rec._server_rev = ack.rev; rec.rev = ack.rev; }
        s.inspections.put(rec);
      }
      s.outbox.delete(ack.op_id);
      done.push(ack.op_id);
    }
  }, STRICT);
  return done;
}

// A rejected record stays as it was sent; "fix and resubmit" copies it into a new draft (a new
// id: the server keeps the refused one in quarantine) and remembers the copy on the original.
export async function redraft(rec) {
  const now = await nowIso();
  const copy = {
    id: uuid(), point_code: rec.point_code, template_key: rec.template_key,
    template_version: rec.template_version, cycle_id: rec.cycle_id ?? null, status: 'draft',
    answers: structuredClone(rec.answers || {}), photos: structuredClone(rec.photos || []),
    gps: rec.gps || null, notes: rec.notes || '', started_at: now, submitted_at: null,
    device_id: await deviceId(), rev: 0, _updated: now, _from: rec.id, _owner: rec._owner,
  };
  await tx('inspections', 'readwrite', (s) => {
    s.inspections.put(copy);
    s.inspections.put({ ...rec, _sync: { ...rec._sync, redrafted: copy.id } });
  }, STRICT);
  return copy;
}

// Records the outbox screen lists: the user's submitted inspections made on this phone.
export async function records(owner) {
  const list = (await all('inspections'))
    .filter((r) => r._sync && r.status === 'submitted' && r._owner === owner);
  list.sort((a, b) => ((b.submitted_at || '') < (a.submitted_at || '') ? -1 : 1));
  return list;
}

// What waits on this phone for users other than `owner`: [{owner, n}] (owner null: unknown).
export async function othersWaiting(owner) {
  const n = new Map();
  for (const o of await all('outbox')) if (o.owner !== owner) n.set(o.owner, (n.get(o.owner) || 0) + 1);
  return [...n].map(([who, count]) => ({ owner: who, n: count }));
}

// Waiting records and drafts an older version left without an owner become the user's (they
// said so). Their ops keep their bytes (no author): they may have left the phone before.
export async function claim(owner) {
  await tx(['outbox', 'inspections'], 'readwrite', async (s) => {
    const waiting = new Set();
    for (const op of await req2p(s.outbox.getAll())) {
      if (op.owner !== null) continue;
      s.outbox.put({ ...op, owner });
      waiting.add(op.record_id);
    }
    for (const rec of await req2p(s.inspections.getAll())) {
      if (rec._owner === null && (waiting.has(rec.id) || rec.status === 'draft')) {
        s.inspections.put({ ...rec, _owner: owner });
      }
    }
  }, STRICT);
}

const b64 = (buf) => {
  let s = '';
  const bytes = new Uint8Array(buf);
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
};

// Manual rescue: the user's queued ops and the photos they need, as one JSON file.
export async function exportFile(owner) {
  const queued = await ops(owner);
  const photos = [];
  for (const op of queued) {
    for (const p of op.data.photos || []) {
      const row = await get('photos', p.sha256);
      if (row && row.blob) {
        photos.push({ sha256: p.sha256, mime: row.mime, base64: b64(await row.blob.arrayBuffer()) });
      }
    }
  }
  const body = {
    kind: 'xunjian-outbox', version: 1, exported_at: new Date().toISOString(),
    device_id: await deviceId(), ops: queued.map(({ state, attempts, next_at, last_error, ...op }) => op),
    photos,
  };
  return new Blob([JSON.stringify(body)], { type: 'application/json' });
}
