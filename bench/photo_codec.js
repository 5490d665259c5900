// Run in Chromium by bench/photo_codec.py: each generated 12 MP photo goes through the field
// app's own shrink(), once as today's JPEG and once as WebP, and each result is compared
// with the resized picture before encoding (SSIM on luma, 11-tap Gaussian, sigma 1.5).
import { drawn, shrink, LADDERS } from '../pwa/js/photos.js';
import { photo } from './photo_scenes.js';

function luma(imageData) {
  const d = imageData.data;
  const y = new Float32Array(d.length / 4);
  for (let i = 0, j = 0; i < d.length; i += 4, j++) y[j] = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
  return y;
}

const KERNEL = (() => {
  const k = [];
  for (let i = -5; i <= 5; i++) k.push(Math.exp(-(i * i) / (2 * 1.5 * 1.5)));
  const s = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / s);
})();

function blur(src, w, h) {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 5; x < w - 5; x++) {
      let s = 0;
      for (let k = 0; k < 11; k++) s += KERNEL[k] * src[y * w + x + k - 5];
      tmp[y * w + x] = s;
    }
  }
  for (let y = 5; y < h - 5; y++) {
    for (let x = 5; x < w - 5; x++) {
      let s = 0;
      for (let k = 0; k < 11; k++) s += KERNEL[k] * tmp[(y + k - 5) * w + x];
      out[y * w + x] = s;
    }
  }
  return out;
}

export function ssim(a, b, w, h) {
  const C1 = (0.01 * 255) ** 2, C2 = (0.03 * 255) ** 2;
  const n = a.length;
  const aa = new Float32Array(n), bb = new Float32Array(n), ab = new Float32Array(n);
  for (let i = 0; i < n; i++) { aa[i] = a[i] * a[i]; bb[i] = b[i] * b[i]; ab[i] = a[i] * b[i]; }
  const ma = blur(a, w, h), mb = blur(b, w, h);
  const saa = blur(aa, w, h), sbb = blur(bb, w, h), sab = blur(ab, w, h);
  let sum = 0, count = 0;
  for (let y = 5; y < h - 5; y++) {
    for (let x = 5; x < w - 5; x++) {
      const i = y * w + x;
      const va = saa[i] - ma[i] * ma[i], vb = sbb[i] - mb[i] * mb[i], cov = sab[i] - ma[i] * mb[i];
      sum += ((2 * ma[i] * mb[i] + C1) * (2 * cov + C2))
        / ((ma[i] * ma[i] + mb[i] * mb[i] + C1) * (va + vb + C2));
      count++;
    }
  }
  return sum / count;
}

async function pixels(blob, w, h) {
  const bmp = await createImageBitmap(blob);
  const c = new OffscreenCanvas(w, h);
  const ctx = c.getContext('2d');
  ctx.drawImage(bmp, 0, 0);
  bmp.close();
  return luma(ctx.getImageData(0, 0, w, h));
}

const toBlob = (canvas, type, q) => canvas.convertToBlob({ type, quality: q });

// One photo: bytes and SSIM through shrink() for each type, and optionally a quality sweep.
export async function measure(name, seed, sweep) {
  const camera = await photo(name, seed);
  const ref = await drawn(camera);
  const refY = luma(ref.canvas.getContext('2d').getImageData(0, 0, ref.width, ref.height));
  const out = { name, seed, camera_bytes: camera.size, width: ref.width, height: ref.height };
  for (const [key, type] of [['jpeg', 'image/jpeg'], ['webp', 'image/webp']]) {
    const { blob, type: got } = await shrink(camera, { types: [type] });
    out[key] = { type: got, bytes: blob.size,
      ssim: ssim(refY, await pixels(blob, ref.width, ref.height), ref.width, ref.height) };
  }
  if (sweep) {
    out.sweep = [];
    for (const type of ['image/jpeg', 'image/webp']) {
      for (const q of [0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.82, 0.85, 0.9]) {
        const blob = await toBlob(ref.canvas, type, q);
        out.sweep.push({ type, q, bytes: blob.size,
          ssim: ssim(refY, await pixels(blob, ref.width, ref.height), ref.width, ref.height) });
      }
    }
  }
  return out;
}

export async function preview(name, seed) {
  const camera = await photo(name, seed);
  return (await shrink(camera, { types: ['image/jpeg'] })).blob;
}

export const ladders = LADDERS;
