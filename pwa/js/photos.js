// Photo evidence: decode with EXIF orientation applied, shrink to <= 1600 px on the long
// side, re-encode as WebP where this browser can (about a quarter fewer bytes than JPEG at the
// same mean SSIM: bench/photo_codec.py), else JPEG, stepping quality down to stay near 250 KB;
// hash, and keep the bytes in IndexedDB until the server has them.
import { put, get, del } from './db.js';

export const MAX_SIDE = 1600;
export const TARGET_BYTES = 250 * 1024;
// Quality steps per type; each type's first step is what most photos get.
export const LADDERS = { 'image/webp': [0.85, 0.75, 0.65, 0.55], 'image/jpeg': [0.82, 0.72, 0.62, 0.52] };
const PREFERRED = ['image/webp', 'image/jpeg'];
let webpWorks; // learned from the first encode: Safari's toBlob answers WebP with a PNG

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

const encode = (canvas, type, q) => (canvas.convertToBlob
  ? canvas.convertToBlob({ type, quality: q })
  : new Promise((res) => canvas.toBlob(res, type, q)));

// The type the bytes really are (the same magic numbers the server checks), never blob.type.
export async function typeOf(blob) {
  const b = new Uint8Array(await blob.slice(0, 12).arrayBuffer());
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  const ascii = (from, to) => String.fromCharCode(...b.subarray(from, to));
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  return null;
}

// The photo as it will be encoded: upright, at most MAX_SIDE, on white.
export async function drawn(file) {
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
  return { canvas, width: w, height: hgt };
}

// `types` is for the codec bench (today's JPEG against WebP); the app takes the default.
export async function shrink(file, { types = PREFERRED } = {}) {
  const { canvas, width, height } = await drawn(file);
  for (const type of types) {
    if (type === 'image/webp' && webpWorks === false) continue;
    let blob;
    for (const q of LADDERS[type]) {
      blob = await encode(canvas, type, q);
      if (await typeOf(blob) !== type) break; // this browser cannot encode it
      if (blob.size <= TARGET_BYTES) break;
    }
    const ok = blob && await typeOf(blob) === type;
    if (type === 'image/webp') webpWorks = ok;
    if (ok) return { blob, type, width, height };
  }
  throw new Error('photo_encode_failed');
}

// Shrinks, stores and returns the photo reference an inspection keeps.
export async function addPhoto(file, recordId, item) {
  const { blob, type, width, height } = await shrink(file);
  const sha256 = await sha256Hex(blob);
  const taken = file.lastModified ? new Date(file.lastModified) : new Date();
  const ref = { sha256, item, size: blob.size, mime: type, taken_at: taken.toISOString() };
  const existing = await get('photos', sha256);
  if (!existing) {
    await put('photos', { sha256, blob, mime: type, size: blob.size, width, height,
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
