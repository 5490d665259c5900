// Photo evidence: decode with EXIF orientation applied, shrink to <= 1600 px on the long
// side, re-encode as JPEG (stepping quality down to stay near 250 KB), hash, and keep the
// bytes in IndexedDB until the server has them.
import { put, get, del } from './db.js';

export const MAX_SIDE = 1600;
export const TARGET_BYTES = 250 * 1024;
const QUALITIES = [0.82, 0.72, 0.62, 0.52];

export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function canvasOf(w, hgt) {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(w, hgt);
  const c = document.createElement('canvas');
  c.width = w;
  c.height = hgt;
  return c;
}

const encode = (canvas, q) => (canvas.convertToBlob
  ? canvas.convertToBlob({ type: 'image/jpeg', quality: q })
  : new Promise((res) => canvas.toBlob(res, 'image/jpeg', q)));

export async function shrink(file) {
  // 'from-image' applies the EXIF orientation, so width/height are as the eye sees them.
  const full = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const scale = Math.min(1, MAX_SIDE / Math.max(full.width, full.height));
  const w = Math.max(1, Math.round(full.width * scale));
  const hgt = Math.max(1, Math.round(full.height * scale));
  // Resizing in the decoder keeps memory low and avoids the canvas size limits of big photos.
  const small = scale < 1
    ? await createImageBitmap(full, { resizeWidth: w, resizeHeight: hgt, resizeQuality: 'high' })
    : full;
  if (small !== full) full.close();
  const canvas = canvasOf(w, hgt);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, hgt);
  ctx.drawImage(small, 0, 0);
  small.close();
  let blob;
  for (const q of QUALITIES) {
    blob = await encode(canvas, q);
    if (blob.size <= TARGET_BYTES) break;
  }
  return { blob, width: w, height: hgt };
}

// Shrinks, stores and returns the photo reference an inspection keeps.
export async function addPhoto(file, recordId, item) {
  const { blob, width, height } = await shrink(file);
  const sha256 = await sha256Hex(blob);
  const taken = file.lastModified ? new Date(file.lastModified) : new Date();
  const ref = { sha256, item, size: blob.size, mime: 'image/jpeg', taken_at: taken.toISOString() };
  const existing = await get('photos', sha256);
  if (!existing) {
    await put('photos', { sha256, blob, mime: 'image/jpeg', size: blob.size, width, height,
      record_id: recordId, item, uploaded: false });
  }
  return ref;
}

export async function photoUrl(sha256) {
  const row = await get('photos', sha256);
  return row?.blob ? URL.createObjectURL(row.blob) : null;
}

// Only a draft's photo may be dropped; submitted ones stay until the server acks.
export const dropPhoto = (sha256) => del('photos', sha256);
