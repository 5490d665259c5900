// Photo uploads, a few at a time: while one photo waits for its answer (a round trip) the
// next one's bytes keep the link busy, so a day's photos take the time their bytes need.
// Each photo stays resumable on its own (ask what the server holds, send the rest), and
// progress counts the bytes the server holds or the network has taken, summed over photos.
import { put } from './db.js';

const CHUNK = 256 * 1024;
export const AT_ONCE = 3;

// `api` is sync.js's authenticated call (passed in, so this module never imports it back).
async function uploadOne(api, row, progress) {
  const total = row.blob.size;
  const st = await api(`/api/blobs/${row.sha256}/status`);
  let offset = st?.complete ? total : (st?.received || 0);
  progress(offset);
  for (let tries = 0; offset < total && tries < 50; tries++) {
    const end = Math.min(total, offset + CHUNK);
    const from = offset;
    const res = await api(`/api/blobs/${row.sha256}`, {
      method: 'PUT', raw: true, body: row.blob.slice(offset, end),
      onBytes: (n) => progress(from + Math.min(n, end - from)),
      headers: { 'Content-Type': row.mime || 'image/jpeg',
        'Content-Range': `bytes ${offset}-${end - 1}/${total}` },
    });
    const data = await res.json().catch(() => ({}));
    if (res.ok) offset = data.complete ? total : (data.received ?? end);
    else if (res.status === 409) offset = data?.error?.received ?? 0;
    else if (res.status === 422) offset = 0; // hash mismatch: the server discarded it
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

// Uploads `rows` AT_ONCE at a time. A photo the server will never take (413 too large,
// 415 not a photo) is marked refused; an error `stopOn` accepts (a lost login) stops all
// and is thrown once the running uploads end; any other failure leaves that photo for the
// next sync. Returns how many failed.
export async function uploadAll(rows, { api, onBytes, stopOn, atOnce = AT_ONCE }) {
  const held = new Map();
  let next = 0;
  let failed = 0;
  let stop = null;
  const worker = async () => {
    while (next < rows.length && !stop) {
      const row = rows[next++];
      try {
        await uploadOne(api, row, (n) => {
          held.set(row.sha256, n);
          let sum = 0;
          for (const v of held.values()) sum += v;
          onBytes(sum);
        });
      } catch (e) {
        if (stopOn(e)) stop = stop || e;
        else if (e.status === 413 || e.status === 415) await put('photos', { ...row, refused: true });
        else failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(atOnce, rows.length) }, worker));
  if (stop) throw stop;
  return failed;
}
