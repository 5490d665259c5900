// The checklist form, rendered from the template version the draft was started with.
// Every change is written to IndexedDB at once (no debounce): a killed tab loses nothing.
import { t, L, fmtDate, fmtNum, reason } from '../i18n.js';
import { h, mount, uid, toast } from '../ui.js';
import { get, put } from '../db.js';
import { template as loadTemplate } from '../data.js';
import { evaluateInspection } from '../rules.js';
import { addPhoto, photoUrl, dropPhoto } from '../photos.js';
import { submit } from '../outbox.js';
import { go, queued, requestPersist } from '../app.js';
import { widget } from './fields.js';

const FAR_M = 500;
let rec = null;
let tpl = null;
let point = null;
let saving = Promise.resolve();
let statusEls = {};
let summaryEl = null;
let savedEl = null;
let itemsByKey = {};
const urls = [];

function save() {
  const snapshot = structuredClone({ ...rec, _updated: new Date().toISOString() });
  saving = saving.then(() => put('inspections', snapshot)).then(() => {
    if (savedEl) savedEl.textContent = t('form.saved', { time: fmtDate(snapshot._updated, true) });
  }).catch(() => toast(t('form.save_failed')));
  return saving;
}

function paramsText(params) {
  const p = { ...params };
  if (p.day) p.day = t(`day.${p.day}`);
  if (Array.isArray(p.missing) && p.item_options) delete p.item_options;
  return p;
}

function reasonText(key, res) {
  const item = itemsByKey[res.params?.item || key];
  const p = paramsText(res.params || {});
  if (Array.isArray(p.missing)) {
    p.missing = p.missing.map((k) => L(item?.options?.find((o) => o.key === k)?.label) || k);
  }
  const text = reason({ code: res.code, params: p });
  return res.params?.item && res.params.item !== key ? `${L(item?.label)}：${text}` : text;
}

function evaluate() {
  let result;
  try { result = evaluateInspection(tpl, rec.answers, rec.photos); } catch (e) { return; }
  let pass = 0, fail = 0, missing = 0;
  for (const [key, el] of Object.entries(statusEls)) {
    const res = result.items[key];
    if (!res) continue;
    el.className = `status s-${res.status}`;
    if (res.status === 'pass') pass++;
    if (res.status === 'fail') fail++;
    if (res.status === 'missing') missing++;
    el.textContent = res.status === 'pass' ? t('status.pass')
      : res.status === 'na' ? t('status.na')
        : `${t(`status.${res.status}`)}${res.status === 'fail' ? '：' + reasonText(key, res) : ''}`;
  }
  const code = result.rating.code;
  summaryEl.replaceChildren(
    h(`span.tag.r-${code}`, t(`rating.${code}`)), ' ',
    t('form.summary', { pass, fail, missing }));
  return { missing };
}

function setAnswer(key, value) {
  if (value === undefined) delete rec.answers[key];
  else rec.answers[key] = value;
  save();
  evaluate();
}

function photoBlock(item) {
  const list = h('ul.thumbs');
  const busy = h('span.muted', { role: 'status' });
  const draw = async () => {
    const mine = rec.photos.filter((p) => p.item === item.key);
    const lis = await Promise.all(mine.map(async (p, i) => {
      const url = await photoUrl(p.sha256);
      if (url) urls.push(url);
      return h('li',
        url ? h('img', { src: url, alt: t('photo.alt', { item: L(item.label), n: i + 1 }), width: 96, height: 96 }) : null,
        h('button.small.ghost', { type: 'button', 'aria-label': t('photo.remove', { n: i + 1 }),
          onclick: async () => {
            rec.photos = rec.photos.filter((x) => x !== p);
            if (!rec.photos.some((x) => x.sha256 === p.sha256)) await dropPhoto(p.sha256);
            await save(); evaluate(); draw();
          } }, '×'));
    }));
    list.replaceChildren(...lis);
  };
  const id = uid('cam');
  const input = h('input.vh', { id, type: 'file', accept: 'image/*', capture: 'environment',
    onchange: async (e) => {
      const files = [...e.target.files];
      e.target.value = '';
      for (const f of files) {
        busy.textContent = t('photo.processing');
        try {
          const ref = await addPhoto(f, rec.id, item.key);
          rec.photos.push(ref);
          await save();
          requestPersist();
        } catch (err) {
          toast(t('photo.failed'));
        }
      }
      busy.textContent = '';
      evaluate();
      draw();
    } });
  draw();
  return h('div.photos', list, input,
    h('label.button', { for: id }, t('photo.take')), busy);
}

function itemCard(item) {
  const ids = { label: uid('l'), input: uid('i'), desc: uid('d') };
  const status = h('p.status', { id: ids.desc });
  statusEls[item.key] = status;
  const w = widget(item, rec.answers[item.key], (v) => setAnswer(item.key, v), ids);
  const needPhotos = item.type === 'photo' || (item.evidence && item.evidence.photos);
  const labelTag = w && (item.type === 'number' || item.type === 'text') ? 'label' : 'span';
  return h('div.item', { id: `item-${item.key}`, 'data-key': item.key },
    h(`${labelTag}.label`, { id: ids.label, for: labelTag === 'label' ? ids.input : null },
      L(item.label), item.critical ? h('abbr.crit', { title: t('form.critical') }, ' ★') : null,
      item.required ? null : h('span.muted', ` ${t('form.optional')}`)),
    item.help ? h('p.help', L(item.help)) : null,
    w,
    needPhotos ? photoBlock(item) : null,
    status);
}

function distanceM(a, b) {
  const R = 6371000;
  const rad = (d) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const x = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(x));
}

function gpsBlock() {
  const out = h('p', { 'aria-live': 'polite' });
  const warn = h('p');
  const show = () => {
    const g = rec.gps;
    if (!g) { out.textContent = t('gps.none'); warn.className = ''; warn.textContent = ''; return; }
    out.textContent = t('gps.fix', { lat: g.lat.toFixed(5), lon: g.lon.toFixed(5),
      acc: fmtNum(Math.round(g.accuracy)), time: fmtDate(g.at, true) });
    if (point?.lat != null && point?.lon != null) {
      const d = distanceM(g, { lat: +point.lat, lon: +point.lon });
      const dist = d >= 1000 ? t('gps.km', { n: fmtNum(d / 1000, { maximumFractionDigits: 1 }) })
        : t('gps.m', { n: fmtNum(Math.round(d)) });
      const far = d - (g.accuracy || 0) > FAR_M;
      warn.className = far ? 'warn' : 'muted';
      warn.setAttribute('role', far ? 'alert' : 'status');
      warn.textContent = t(far ? 'gps.far' : 'gps.near', { dist });
    }
  };
  const locate = () => {
    if (!navigator.geolocation) { out.textContent = t('gps.unsupported'); return; }
    out.textContent = t('gps.locating');
    navigator.geolocation.getCurrentPosition((pos) => {
      rec.gps = { lat: pos.coords.latitude, lon: pos.coords.longitude,
        accuracy: pos.coords.accuracy, at: new Date(pos.timestamp || Date.now()).toISOString() };
      save();
      show();
    }, (err) => {
      out.textContent = t(err.code === 1 ? 'gps.denied' : 'gps.failed');
    }, { enableHighAccuracy: true, timeout: 30000, maximumAge: 60000 });
  };
  show();
  if (!rec.gps) locate();
  return h('section.card', { 'aria-labelledby': 'gps-h' },
    h('h3#gps-h', t('gps.title')), out, warn,
    h('button.small', { type: 'button', onclick: locate }, t('gps.again')));
}

async function onSubmit() {
  const res = evaluate();
  if (res?.missing && !confirm(t('form.confirm_missing', { n: res.missing }))) return;
  await saving;
  await submit(rec);
  toast(t('form.submitted'));
  queued();
  go('#/outbox');
}

export async function render(id) {
  statusEls = {};
  rec = await get('inspections', id);
  if (!rec) { mount(h('h2', t('form.not_found'))); return; }
  rec.answers ||= {};
  rec.photos ||= [];
  tpl = await loadTemplate(rec.template_key, rec.template_version);
  point = await get('points', rec.point_code);
  if (!tpl) { mount(h('h2', t('form.no_template'))); return; }
  itemsByKey = {};
  for (const s of tpl.sections) for (const it of s.items) itemsByKey[it.key] = it;
  const readonly = rec.status !== 'draft';
  summaryEl = h('p.summary', { 'aria-live': 'polite' });
  savedEl = h('span.muted.saved', t('form.autosave'));
  const notesId = uid('n');
  const body = h('form.checklist', { onsubmit: (e) => { e.preventDefault(); onSubmit(); } },
    tpl.sections.map((s) => h('section.card', { 'aria-labelledby': `s-${s.key}` },
      h('h3', { id: `s-${s.key}` }, L(s.name)),
      s.items.map(itemCard))),
    gpsBlock(),
    h('section.card',
      h('label', { for: notesId }, t('form.notes')),
      h('textarea', { id: notesId, rows: 3, value: rec.notes || '',
        oninput: (e) => { rec.notes = e.target.value; save(); } })),
    readonly ? null : h('div.actions',
      h('button.primary', { type: 'submit' }, t('form.submit'))));
  if (readonly) body.inert = true;
  mount(
    h('p.crumb', h('a', { href: `#/point/${encodeURIComponent(rec.point_code)}` },
      t('form.back', { name: point?.name || rec.point_code }))),
    h('h2', t('form.title', { name: point?.name || rec.point_code })),
    h('div.sticky', summaryEl, savedEl),
    h('p.muted', L(tpl.name), ' · ', t('form.started', { date: fmtDate(rec.started_at, true) })),
    body,
  );
  evaluate();
}

export async function leave() {
  await saving;
  while (urls.length) URL.revokeObjectURL(urls.pop());
}
