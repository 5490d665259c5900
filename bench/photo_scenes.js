// Test photos for bench/photo_codec.py, made from a seed instead of committed as megabytes:
// 4000 x 3000 (12 MP) scenes of what an inspector photographs (a signboard, shelves, the
// reading room, posted rules and hours, a register, an activity, the building), drawn with
// the textures, lighting, text, optical blur and sensor noise that decide how well a photo
// compresses, then saved as a phone camera does (JPEG, quality 0.92).
export const W = 4000;
export const H = 3000;
export const SCENES = ['signboard', 'shelving', 'reading_room', 'rules_posted', 'hours_posted',
  'register', 'activity', 'exterior'];

const FONT = '"WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif';
const HANZI = '农家书屋图书借阅登记规章制度开放时间读者须知爱护保持安静文明阅览室服务点村镇分馆'
  + '县公共文化活动中心少儿期刊报纸电子资源志愿者管理员周一至周日上午下午闭馆节假日'
  + '请勿大声喧哗损坏丢失按价赔偿凭证办理归还续借逾期数字化培训讲座展览';

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function canvas(w, h) {
  const c = new OffscreenCanvas(w, h);
  return [c, c.getContext('2d')];
}

const pick = (rng, xs) => xs[Math.floor(rng() * xs.length)];
const words = (rng, n) => Array.from({ length: n }, () => pick(rng, HANZI)).join('');
const hsl = (h, s, l) => `hsl(${h} ${s}% ${l}%)`;

// Smooth multi-octave value noise: small random grids scaled up and summed (1/f-like, as
// natural surfaces are), returned as a canvas to blend over a surface.
function noise(rng, w, h, cell, octaves = 4, gray = true) {
  const [out, octx] = canvas(w, h);
  octx.fillStyle = '#808080';
  octx.fillRect(0, 0, w, h);
  let amp = 0.55;
  for (let o = 0; o < octaves; o++) {
    const gw = Math.max(2, Math.ceil(w / cell)), gh = Math.max(2, Math.ceil(h / cell));
    const [g, gctx] = canvas(gw, gh);
    const img = gctx.createImageData(gw, gh);
    for (let i = 0; i < gw * gh; i++) {
      const v = rng() * 255;
      img.data[i * 4] = v;
      img.data[i * 4 + 1] = gray ? v : rng() * 255;
      img.data[i * 4 + 2] = gray ? v : rng() * 255;
      img.data[i * 4 + 3] = 255;
    }
    gctx.putImageData(img, 0, 0);
    octx.imageSmoothingQuality = 'high';
    octx.globalAlpha = amp;
    octx.drawImage(g, 0, 0, w, h);
    amp *= 0.6;
    cell = Math.max(2, cell / 2.3);
  }
  octx.globalAlpha = 1;
  return out;
}

function surface(ctx, rng, x, y, w, h, color, cell, strength = 0.5, mode = 'overlay') {
  ctx.fillStyle = color;
  ctx.fillRect(x, y, w, h);
  ctx.save();
  ctx.globalCompositeOperation = mode;
  ctx.globalAlpha = strength;
  ctx.drawImage(noise(rng, Math.ceil(w / 2), Math.ceil(h / 2), cell / 2), x, y, w, h);
  ctx.restore();
}

function light(ctx, rng, x, y, r, alpha) {
  const g = ctx.createRadialGradient(x, y, 0, x, y, r);
  g.addColorStop(0, `rgba(255,250,235,${alpha})`);
  g.addColorStop(1, 'rgba(255,250,235,0)');
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, W, H);
}

function text(ctx, s, x, y, size, color, weight = 400) {
  ctx.font = `${weight} ${size}px ${FONT}`;
  ctx.fillStyle = color;
  ctx.fillText(s, x, y);
}

function paper(ctx, rng, x, y, w, h, lines, size, title) {
  surface(ctx, rng, x, y, w, h, hsl(45, 20, 93), 60, 0.25);
  ctx.strokeStyle = '#333';
  ctx.lineWidth = 6;
  ctx.strokeRect(x + 30, y + 30, w - 60, h - 60);
  if (title) text(ctx, title, x + w / 2 - title.length * size * 0.75, y + size * 2.6, size * 1.5, '#b01010', 700);
  for (let i = 0; i < lines; i++) {
    const ly = y + size * (4.2 + i * 1.6);
    if (ly > y + h - size) break;
    text(ctx, `${i + 1}. ${words(rng, Math.floor((w - 160) / size) - 3)}`, x + 80, ly, size, '#222');
  }
}

function wall(ctx, rng, hue = 40) {
  surface(ctx, rng, 0, 0, W, H, hsl(hue, 15 + rng() * 15, 70 + rng() * 12), 400, 0.35);
  surface(ctx, rng, 0, H * 0.78, W, H * 0.22, hsl(25, 20, 40), 80, 0.6);
}

const draw = {
  signboard(ctx, rng) {
    surface(ctx, rng, 0, 0, W, H * 0.35, '#8fb4d9', 900, 0.3, 'soft-light');
    surface(ctx, rng, 0, H * 0.25, W, H * 0.75, hsl(20, 25, 62), 50, 0.7); // plaster and brick
    for (let y = H * 0.25; y < H; y += 70) {
      ctx.fillStyle = 'rgba(60,40,30,0.25)';
      ctx.fillRect(0, y, W, 6);
    }
    surface(ctx, rng, 0, 0, W * 0.22, H * 0.6, '#3f6b2f', 60, 0.9, 'overlay'); // a tree
    const bx = 700, by = 900;
    surface(ctx, rng, bx, by, 2700, 700, '#b3161b', 200, 0.25);
    ctx.strokeStyle = '#e8c25a';
    ctx.lineWidth = 18;
    ctx.strokeRect(bx + 30, by + 30, 2640, 640);
    text(ctx, `${words(rng, 3)}村农家书屋`, bx + 220, by + 430, 330, '#f4d35e', 700);
    surface(ctx, rng, 1500, 1900, 1100, 500, '#f1efe8', 100, 0.3);
    text(ctx, `${words(rng, 6)}县图书馆`, 1560, 2100, 110, '#333', 700);
    text(ctx, `服务点编号 6104${Math.floor(rng() * 1e8)}`, 1560, 2300, 80, '#555');
    light(ctx, rng, 3200, 300, 2600, 0.35);
  },
  shelving(ctx, rng) {
    wall(ctx, rng, 35);
    for (let row = 0; row < 5; row++) {
      const y0 = 250 + row * 540;
      surface(ctx, rng, 150, y0 + 460, 3700, 70, hsl(28, 45, 35), 30, 0.8); // the board
      for (let x = 170; x < 3820;) {
        const bw = 40 + rng() * 70, bh = 300 + rng() * 150;
        const hue = pick(rng, [0, 20, 45, 120, 200, 220, 260, 30]);
        surface(ctx, rng, x, y0 + 460 - bh, bw - 4, bh, hsl(hue, 20 + rng() * 50, 25 + rng() * 50), 40, 0.4);
        ctx.save();
        ctx.translate(x + bw / 2 + 12, y0 + 470 - bh);
        ctx.rotate(Math.PI / 2);
        text(ctx, words(rng, 4 + Math.floor(rng() * 6)), 30, 0, Math.min(34, bw * 0.55), 'rgba(245,240,225,0.9)');
        ctx.restore();
        ctx.fillStyle = 'rgba(0,0,0,0.35)';
        ctx.fillRect(x + bw - 4, y0 + 460 - bh, 4, bh);
        x += bw;
      }
    }
    light(ctx, rng, 800, 200, 3000, 0.3);
  },
  reading_room(ctx, rng) {
    wall(ctx, rng, 200);
    surface(ctx, rng, 0, H * 0.62, W, H * 0.38, hsl(30, 15, 55), 25, 0.5);
    for (let i = 0; i < 14; i++) { // floor tiles
      ctx.strokeStyle = 'rgba(40,30,20,0.4)';
      ctx.lineWidth = 5;
      ctx.beginPath();
      ctx.moveTo(W / 2 + (i - 7) * 120, H * 0.62);
      ctx.lineTo(W / 2 + (i - 7) * 600, H);
      ctx.stroke();
    }
    surface(ctx, rng, 2700, 300, 1000, 1200, '#eaf2ff', 300, 0.2); // window
    light(ctx, rng, 3200, 800, 2200, 0.55);
    for (let t = 0; t < 3; t++) {
      const tx = 300 + t * 900, ty = 1750 + t * 120;
      surface(ctx, rng, tx, ty, 800, 120, hsl(25, 40, 38), 20, 0.7);
      ctx.fillStyle = hsl(25, 30, 25);
      ctx.fillRect(tx + 40, ty + 120, 30, 500);
      ctx.fillRect(tx + 730, ty + 120, 30, 500);
      for (let b = 0; b < 3; b++) {
        surface(ctx, rng, tx + 80 + b * 230, ty - 30, 180, 40, hsl(rng() * 360, 40, 60), 20, 0.3);
      }
    }
    paper(ctx, rng, 400, 350, 900, 600, 6, 48, '读者须知');
  },
  rules_posted(ctx, rng) {
    wall(ctx, rng, 50);
    ctx.save();
    ctx.translate(500, 200);
    ctx.transform(1, 0.03, -0.02, 1, 0, 0);
    paper(ctx, rng, 0, 0, 1500, 2400, 26, 52, '图书借阅制度');
    paper(ctx, rng, 1600, 60, 1400, 2200, 22, 56, '管理员职责');
    ctx.restore();
    light(ctx, rng, 2800, 600, 1500, 0.4);
  },
  hours_posted(ctx, rng) {
    wall(ctx, rng, 15);
    surface(ctx, rng, 900, 500, 2200, 1900, '#f6f3ea', 200, 0.25);
    text(ctx, '开放时间', 1550, 800, 200, '#1d3f8f', 700);
    const days = ['周一', '周二', '周三', '周四', '周五', '周六', '周日'];
    days.forEach((d, i) => {
      const y = 1050 + i * 180;
      ctx.strokeStyle = '#777';
      ctx.lineWidth = 4;
      ctx.strokeRect(1000, y - 130, 2000, 180);
      text(ctx, d, 1080, y, 100, '#222');
      text(ctx, `${8 + Math.floor(rng() * 2)}:30 — ${17 + Math.floor(rng() * 2)}:00`, 1800, y, 100, '#222');
    });
    light(ctx, rng, 1200, 700, 1800, 0.3);
  },
  register(ctx, rng) {
    surface(ctx, rng, 0, 0, W, H, hsl(28, 45, 32), 35, 0.8); // the desk's wood
    ctx.save();
    ctx.translate(300, 250);
    ctx.rotate(-0.04);
    surface(ctx, rng, 0, 0, 3400, 2500, hsl(48, 30, 90), 150, 0.2);
    ctx.fillStyle = 'rgba(0,0,0,0.25)';
    ctx.fillRect(1690, 0, 20, 2500);
    for (let y = 200; y < 2450; y += 95) {
      ctx.strokeStyle = 'rgba(60,90,160,0.5)';
      ctx.lineWidth = 3;
      ctx.beginPath();
      ctx.moveTo(60, y);
      ctx.lineTo(3340, y);
      ctx.stroke();
      for (const col of [100, 1800]) { // handwriting: tilted, uneven
        ctx.save();
        ctx.translate(col + rng() * 30, y - 15);
        ctx.rotate((rng() - 0.5) * 0.05);
        text(ctx, `${words(rng, 3)} ${Math.floor(rng() * 12) + 1}月${Math.floor(rng() * 28) + 1}日 ${words(rng, 5)}`,
          0, 0, 64 + rng() * 10, 'rgba(20,30,90,0.85)');
        ctx.restore();
      }
    }
    ctx.restore();
    light(ctx, rng, 2000, 1000, 2600, 0.25);
  },
  activity(ctx, rng) {
    wall(ctx, rng, 180);
    surface(ctx, rng, 600, 150, 2800, 420, '#c8102e', 200, 0.2);
    text(ctx, `${words(rng, 8)}读书分享会`, 760, 450, 230, '#fff3b0', 700);
    for (let i = 0; i < 26; i++) { // people
      const x = rng() * W, y = 1300 + rng() * 1500, s = 0.6 + (y - 1300) / 1500;
      surface(ctx, rng, x - 160 * s, y, 320 * s, 900 * s, hsl(rng() * 360, 30 + rng() * 40, 25 + rng() * 45), 30, 0.5);
      ctx.fillStyle = hsl(25, 35, 55 + rng() * 15);
      ctx.beginPath();
      ctx.ellipse(x, y - 110 * s, 100 * s, 125 * s, 0, 0, Math.PI * 2);
      ctx.fill();
      ctx.fillStyle = hsl(20, 20, 12);
      ctx.beginPath();
      ctx.ellipse(x, y - 170 * s, 105 * s, 80 * s, 0, Math.PI, Math.PI * 2);
      ctx.fill();
    }
    light(ctx, rng, 2000, 300, 2500, 0.3);
  },
  exterior(ctx, rng) {
    surface(ctx, rng, 0, 0, W, H * 0.4, '#9ec3e6', 700, 0.5, 'soft-light'); // sky and clouds
    surface(ctx, rng, 0, H * 0.7, W, H * 0.3, hsl(35, 12, 55), 8, 0.9); // gravel: fine detail
    surface(ctx, rng, 500, 700, 3000, 1500, hsl(30, 10, 82), 120, 0.4); // the building
    ctx.fillStyle = hsl(0, 40, 35);
    ctx.beginPath();
    ctx.moveTo(350, 760);
    ctx.lineTo(2000, 350);
    ctx.lineTo(3650, 760);
    ctx.fill();
    for (let i = 0; i < 4; i++) surface(ctx, rng, 800 + i * 700, 1100, 400, 500, '#34495e', 100, 0.3);
    surface(ctx, rng, 1750, 1500, 500, 700, hsl(25, 40, 30), 30, 0.6);
    text(ctx, `${words(rng, 3)}村综合文化服务中心`, 950, 1000, 150, '#8b0000', 700);
    surface(ctx, rng, 3400, 900, 600, 1400, '#2e5e2a', 40, 1, 'overlay'); // shrubs
    light(ctx, rng, 600, 0, 3500, 0.3);
  },
};

// Lens softness, then sensor noise (stronger in the shadows), as a phone's camera gives.
function camera(c, ctx, rng) {
  const [soft, sctx] = canvas(W, H);
  sctx.filter = 'blur(1.3px)';
  sctx.drawImage(c, 0, 0);
  const img = sctx.getImageData(0, 0, W, H);
  const d = img.data;
  for (let i = 0; i < d.length; i += 4) {
    const shade = 1.8 + (255 - d[i + 1]) / 60;
    const n = (rng() + rng() + rng() - 1.5) * shade * 2;
    d[i] += n + (rng() - 0.5) * shade;
    d[i + 1] += n;
    d[i + 2] += n + (rng() - 0.5) * shade;
  }
  ctx.putImageData(img, 0, 0);
}

// One test photo: the same seed gives the same pixels on the same browser build.
export async function photo(name, seed) {
  const rng = mulberry32(seed);
  const [c, ctx] = canvas(W, H);
  ctx.textBaseline = 'alphabetic';
  draw[name](ctx, rng);
  camera(c, ctx, rng);
  return c.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
}
