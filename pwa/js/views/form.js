// The checklist form, rendered from the template version the draft was started with.
// Every change is written to IndexedDB at once (no debounce): a killed tab loses nothing.
// A submitted record opens read-only, with what happened to it and what to do next.
import { t, L, fmtWhen, fmtDate, fmtNum, reason } from '../i18n.js';
import { h, $, mount, uid, toast } from '../ui.js';
import { get, put, del, all, byIndex } from '../db.js';
import { template as loadTemplate, dueOf, isOpenFollowup } from '../data.js';
import { evaluateInspection, fillParams } from '../rules.js';
import { addPhoto, photoUrl, dropPhoto } from '../photos.js';
import { submit } from '../outbox.js';
import { go, queued, requestPersist, state } from '../state.js';
import { widget } from '../fields.js';
import { syncBadge, stateNote } from '../widgets.js';
import { INVALID, findings, needsReview, reviewPanel } from '../presubmit.js';

const FAR_M = 500;
const MAX_NOTES = 10_000; // the server refuses longer notes (sync-protocol.md)
let rec = null;
let tpl = null;
let point = null;
let readonly = false;
let flagged = false; // after a submit attempt, missing required items are marked
let saving = Promise.resolve();
let statusEls = {};
let summaryEl = null;
let savedEl = null;
let panelEl = null;
let itemsByKey = {};
let last = null;
const urls = [];

function save() {
  if (readonly) return saving;
  const snapshot = structuredClone({ ...rec, _updated: new Date().toISOString() });
  saving = saving.then(() => put('inspections', snapshot)).then(() => {
    if (savedEl) savedEl.textContent = t('form.saved', { time: fmtWhen(snapshot._updated) });
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
  return res.params?.item && res.params.item !== key ? `${L(item?.label)}${t('sep')}${text}` : text;
}

function evaluate() {
  let result;
  try { result = evaluateInspection(tpl, rec.answers, rec.photos); } catch (e) { return last; }
  let pass = 0, fail = 0;
  const f = findings(result);
  for (const [key, el] of Object.entries(statusEls)) {
    const res = result.items[key];
    if (!res) continue;
    const bad = res.status === 'fail' && INVALID.has(res.code);
    if (res.status === 'pass') pass++;
    if (res.status === 'fail') fail++;
    el.className = `status s-${res.status}`;
    const odd = f.warnings.find((w) => w.item === key);
    el.textContent = (res.status === 'pass' ? t('status.pass')
      : res.status === 'na' ? t('status.na')
        : res.code === 'needs_item' ? reasonText(key, res)
        : res.status === 'missing' && flagged ? t('status.required')
          : `${t(`status.${res.status}`)}${res.status === 'fail' ? t('sep') + reasonText(key, res) : ''}`)
      + (odd ? ` · ${reason(odd)}` : '');
    const card = el.closest('.item');
    card.classList.toggle('flag', (flagged && res.status === 'missing') || bad);
    for (const input of card.querySelectorAll('input.num')) {
      if (bad) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
    }
  }
  if ((rec.notes || '').length > MAX_NOTES) f.invalid.push('notes');
  const code = result.rating.code;
  const { missing } = f;
  // No verdict on an empty form: a red 不达标 before the first answer tells nothing.
  const started = readonly || Object.keys(rec.answers).length || rec.photos.length;
  summaryEl.replaceChildren(...(started ? [
    h(`span.tag.r-${code}`, missing.length && !readonly ? t('form.provisional', { rating: t(`rating.${code}`) })
      : t(`rating.${code}`)), ' ',
    t('form.summary', { pass, fail, missing: missing.length })] : [t('form.no_answers')]),
  missing.length && !readonly ? h('button.small.ghost.jump', { type: 'button', onclick: () => jumpNext(missing) },
    t('form.next_missing')) : '');
  last = { ...f, rating: code, result };
  return last;
}

function labelOf(key) {
  return key === 'notes' ? t('form.notes') : L(itemsByKey[key]?.label) || key;
}

function focusItem(key) {
  const card = key === 'notes' ? $('#notes-card') : $(`#item-${CSS.escape(key)}`);
  if (!card) return;
  card.scrollIntoView({ block: 'center' });
  const target = card.querySelector('input:not([type=file]), textarea, .label');
  target?.focus({ preventScroll: true });
}

// The next missing item below the middle of the screen (a jump centres its target), else
// the first one.
function jumpNext(missing) {
  const y = window.innerHeight / 2;
  const cards = missing.map((k) => $(`#item-${CSS.escape(k)}`)).filter(Boolean);
  const next = cards.find((c) => c.getBoundingClientRect().top > y) || cards[0];
  if (next) focusItem(next.dataset.key);
}

function setAnswer(key, value) {
  if (value === undefined) delete rec.answers[key];
  else rec.answers[key] = value;
  if (panelEl) panelEl.hidden = true; // the list answered a submit attempt; it is stale now
  save();
  evaluate();
}

// Full-size view of one photo, with the only delete button (a thumbnail tap must not delete).
function viewer(url, alt, onDelete) {
  const dlg = h('dialog.viewer', { 'aria-label': alt },
    h('img', { src: url, alt }),
    h('div.actions',
      readonly ? null : h('button', { type: 'button', class: 'danger', onclick: async () => {
        dlg.close();
        await onDelete();
      } }, t('photo.delete')),
      h('button', { type: 'button', onclick: () => dlg.close() }, t('photo.close'))));
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
}

function photosNeeded(item) {
  if (item.type === 'photo') return item.rule?.min || 1;
  return item.evidence?.photos || 0;
}

function photoBlock(item) {
  const list = h('ul.thumbs');
  const busy = h('span.muted', { role: 'status' });
  const need = photosNeeded(item);
  const hint = h('span.muted.need');
  const draw = async () => {
    const mine = rec.photos.filter((p) => p.item === item.key);
    hint.textContent = need ? t('photo.need', { need, have: mine.length }) : '';
    const lis = await Promise.all(mine.map(async (p, i) => {
      const url = await photoUrl(p.sha256);
      if (url) urls.push(url);
      const alt = t('photo.alt', { item: L(item.label), n: i + 1 });
      const remove = async () => {
        rec.photos = rec.photos.filter((x) => x !== p);
        if (!rec.photos.some((x) => x.sha256 === p.sha256)) await dropPhoto(p.sha256);
        await save(); evaluate(); draw();
        toast(t('photo.deleted'));
      };
      return h('li', url
        ? h('button.thumb', { type: 'button', 'aria-label': t('photo.view', { n: i + 1 }),
          onclick: () => viewer(url, alt, remove) }, h('img', { src: url, alt: '', width: 96, height: 96 }))
        : h('span.thumb.gone', t('photo.elsewhere')));
    }));
    list.replaceChildren(...lis);
  };
  const id = uid('cam');
  const input = h('input.vh', { id, type: 'file', accept: 'image/*', capture: 'environment',
    onchange: async (e) => {
      const files = [...e.target.files];
      e.target.value = '';
      const rid = rec.id;
      for (const f of files) {
        busy.textContent = t('photo.processing');
        try {
          const ref = await addPhoto(f, rid, item.key);
          if (rec?.id !== rid || readonly) return; // the form was left meanwhile
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
  return h('div.photos', list, readonly ? null : [input, h('label.button', { for: id }, t('photo.take'))],
    hint, busy);
}

function itemCard(item, fus) {
  const ids = { label: uid('l'), input: uid('i'), desc: uid('d') };
  const status = h('p.status', { id: ids.desc });
  statusEls[item.key] = status;
  const w = widget(item, rec.answers[item.key], (v) => setAnswer(item.key, v), ids, { point });
  const needPhotos = item.type === 'photo' || (item.evidence && item.evidence.photos);
  const labelTag = w && (item.type === 'number' || item.type === 'text') ? 'label' : 'span';
  const fu = fus.get(item.key);
  return h('div.item', { id: `item-${item.key}`, 'data-key': item.key },
    h(`${labelTag}.label`, { id: ids.label, for: labelTag === 'label' ? ids.input : null },
      L(item.label), item.critical ? h('span.crit', ' ★', h('span.vh', t('form.critical'))) : null,
      item.required ? null : h('span.muted', ` ${t('form.optional')}`)),
    item.help ? h('p.help', fillParams(L(item.help), tpl.params)) : null,
    fu ? h('p.fu-hint', t('form.followup', { date: fmtDate(dueOf(fu)) })) : null,
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
      acc: fmtNum(Math.round(g.accuracy)), time: fmtWhen(g.at) });
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
    const target = rec;
    navigator.geolocation.getCurrentPosition((pos) => {
      // A fix that arrives after this form was left or submitted belongs to nobody.
      if (!rec || rec.id !== target.id || readonly) return;
      rec.gps = { lat: pos.coords.latitude, lon: pos.coords.longitude,
        accuracy: pos.coords.accuracy, at: new Date(pos.timestamp || Date.now()).toISOString() };
      save();
      show();
    }, (err) => {
      out.textContent = t(err.code === 1 ? 'gps.denied' : 'gps.failed');
    }, { enableHighAccuracy: true, timeout: 30000, maximumAge: 60000 });
  };
  show();
  if (!rec.gps && !readonly) locate();
  return h('section.card', { 'aria-labelledby': 'gps-h' },
    h('h3#gps-h', t('gps.title')), out, warn,
    readonly ? null : h('button.small', { type: 'button', onclick: locate }, t('gps.again')));
}

// One item in a panel: a link to it, with a note (true: its own reason).
function line(key, note) {
  const res = last?.result.items[key];
  const text = note === true ? res && reasonText(key, res) : note;
  return h('li', h('button.linkish', { type: 'button', onclick: () => focusItem(key) },
    labelOf(key), itemsByKey[key]?.critical ? ' ★' : '', text ? t('sep') + text : ''));
}

// Before submitting: wrong values stop it (the server would refuse the whole record);
// anything short of 达标 is listed with what submitting anyway does, and the inspector decides.
function showPanel(res) {
  const invalid = res.invalid.length > 0;
  panelEl.className = `panel ${invalid ? 'error-panel' : 'warn-panel'}`;
  panelEl.replaceChildren(...(invalid
    ? [h('h3#panel-h', { tabindex: '-1' }, t('form.invalid_title', { n: res.invalid.length })),
      h('ul.plain.missing-list', res.invalid.map((k) => line(k, true)))]
    : reviewPanel(res, res.rating, { line,
      keepFilling: () => focusItem([...res.missing, ...res.photos, ...res.failing][0] || res.warnings[0]?.item),
      submitAnyway: () => onSubmit(true) })).flat().filter(Boolean));
  panelEl.hidden = false;
  panelEl.scrollIntoView({ block: 'center' });
  $('#panel-h').focus({ preventScroll: true });
}

let submitting = false;
async function onSubmit(anyway = false) {
  if (submitting) return; // a double tap must not queue the record twice
  flagged = true;
  const res = evaluate();
  if (!res) return;
  if (res.invalid.length || (!anyway && needsReview(res, res.rating))) { showPanel(res); return; }
  submitting = true;
  try { await doSubmit(); } finally { submitting = false; }
}

async function doSubmit() {
  await saving;
  await submit(rec);
  readonly = true; // submitted: nothing more to save from this screen
  toast(t('form.submitted'));
  queued();
  go('#/outbox');
}

async function deleteDraft() {
  if (!confirm(t('form.delete_confirm'))) return;
  await saving;
  const others = (await all('inspections')).filter((i) => i.id !== rec.id);
  for (const p of rec.photos) {
    if (!others.some((o) => (o.photos || []).some((x) => x.sha256 === p.sha256))) await dropPhoto(p.sha256);
  }
  await del('inspections', rec.id);
  readonly = true; // nothing more to save
  toast(t('form.deleted'));
  go(`#/point/${encodeURIComponent(rec.point_code)}`);
}

async function openFollowups() {
  const fus = (await byIndex('followups', 'point_code', rec.point_code)).filter(isOpenFollowup);
  fus.sort((a, b) => (dueOf(a) < dueOf(b) ? -1 : 1));
  const m = new Map();
  for (const f of fus) if (!m.has(f.item_key)) m.set(f.item_key, f);
  return m;
}

export async function render(id) {
  statusEls = {};
  flagged = false;
  last = null;
  rec = await get('inspections', id);
  // Another user's record on a shared phone is not there for this one.
  if (rec?._owner !== state.auth?.user?.id) { mount(h('h2', t('form.not_found'))); return; }
  rec.answers ||= {};
  rec.photos ||= [];
  tpl = await loadTemplate(rec.template_key, rec.template_version);
  point = await get('points', rec.point_code);
  if (!tpl) { mount(h('h2', t('form.no_template'))); return; }
  itemsByKey = {};
  for (const s of tpl.sections) for (const it of s.items) itemsByKey[it.key] = it;
  readonly = rec.status !== 'draft';
  const fus = readonly ? new Map() : await openFollowups();
  summaryEl = h('p.summary', { 'aria-live': 'polite' });
  savedEl = h('span.saved', t('form.autosave'));
  panelEl = h('section', { hidden: true, role: 'alert', 'aria-labelledby': 'panel-h' });
  const notesId = uid('n');
  const count = h('p.muted.count', { 'aria-live': 'polite' });
  const showCount = () => {
    const n = (rec.notes || '').length;
    count.textContent = n > MAX_NOTES * 0.9 ? t('form.notes_count', { n, max: MAX_NOTES }) : '';
  };
  showCount();
  // 复查: the items a follow-up waits on come first, in their own card; the rest as usual.
  const recheck = [...fus.keys()].filter((k) => itemsByKey[k]);
  const again = new Set(recheck);
  const body = h('form.checklist', { novalidate: true, onsubmit: (e) => { e.preventDefault(); onSubmit(); } },
    recheck.length ? h('section.card.recheck', { 'aria-labelledby': 's-recheck' },
      h('h3', { id: 's-recheck' }, t('form.recheck_title', { n: recheck.length })),
      h('p.help', t('form.recheck_help')),
      recheck.map((k) => itemCard(itemsByKey[k], fus))) : null,
    tpl.sections.map((s) => [s, s.items.filter((it) => !again.has(it.key))])
      .filter(([, items]) => items.length)
      .map(([s, items]) => h('section.card', { 'aria-labelledby': `s-${s.key}` },
        h('h3', { id: `s-${s.key}` }, L(s.name)),
        items.map((it) => itemCard(it, fus)))),
    gpsBlock(),
    h('section#notes-card.card',
      h('label', { for: notesId }, t('form.notes')),
      h('textarea', { id: notesId, rows: 3, value: rec.notes || '', maxlength: MAX_NOTES,
        readonly: readonly || null,
        oninput: (e) => { rec.notes = e.target.value; showCount(); save(); } }),
      count),
    readonly ? null : [panelEl, h('div.actions',
      h('button.primary', { type: 'submit' }, t('form.submit'))),
    h('div.actions', h('button.ghost.danger', { type: 'button', onclick: deleteDraft }, t('form.delete')))]);
  if (readonly) for (const el of body.querySelectorAll('.item input, .item button:not(.thumb)')) el.disabled = true;
  const name = point?.name || rec.point_code;
  mount(
    h('p.crumb', h('a', { href: `#/point/${encodeURIComponent(rec.point_code)}` },
      t('form.back', { name }))),
    h('h2', t(readonly ? 'form.title_done' : recheck.length ? 'form.title_recheck' : 'form.title', { name })),
    h('div.sticky', summaryEl),
    readonly ? h('div.card.state', h('p', t('outbox.submitted_at', { date: fmtWhen(rec.submitted_at) }), ' ',
      rec._sync ? syncBadge(rec._sync.state) : h('span.tag.done', t('sync.state.sent'))),
    stateNote(rec, itemsByKey)) : null,
    rec._from && !readonly ? h('p.warn', t('form.redraft_of')) : null,
    point?.active === false && !readonly ? h('p.warn', t('point.inactive_draft')) : null,
    h('p.muted', L(tpl.name), ' · ', t('form.started', { date: fmtWhen(rec.started_at) }),
      readonly ? null : [' · ', savedEl]),
    Object.values(itemsByKey).some((it) => it.critical) ? h('p.legend', t('form.critical_legend')) : null,
    body,
  );
  evaluate();
}

export async function leave() {
  await saving;
  document.querySelector('dialog.viewer')?.close();
  while (urls.length) URL.revokeObjectURL(urls.pop());
}
