// Outbox: every submitted inspection with its sync state; progress; sync now; export.
// A rejected or conflicting record says what happened, in words, and what to do next.
import { t, fmtWhen, fmtBytes } from '../i18n.js';
import { h, mount, toast } from '../ui.js';
import * as outbox from '../outbox.js';
import { all, getMeta } from '../db.js';
import { sync, onSyncEvent, state } from '../state.js';
import { syncBadge, stateNote, othersNote } from '../widgets.js';

let off = null;

const errText = (code) => {
  const key = `sync.fail.${code}`;
  return t(key) === key ? code || '' : t(key);
};

// A record is acknowledged before its photos travel; say what is still on its way.
function photoNote(r, s, photoRow) {
  if (s.state !== 'sent' && s.state !== 'conflict') return null;
  const refs = r.photos || [];
  const refused = refs.filter((p) => photoRow.get(p.sha256)?.refused).length;
  const waiting = refs.filter((p) => { const row = photoRow.get(p.sha256); return row && !row.uploaded && !row.refused; }).length;
  if (refused) return h('p.warn', t('outbox.photos_refused', { n: refused }));
  if (waiting) return h('p.muted', t('outbox.photos_waiting', { n: waiting }));
  return null;
}

// Records weigh little next to photos: give them a fifth of the bar when photos are due.
function fraction(p) {
  const wRec = p.bytes_total ? 0.2 : 1;
  const r = p.records_total ? p.records_done / p.records_total : 1;
  const b = p.phase === 'photos' ? (p.bytes_total ? p.bytes_done / p.bytes_total : 1) : 0;
  return Math.min(1, wRec * r + (1 - wRec) * b);
}

function progressBar(p) {
  if (!p) return h('div.progress', { hidden: true });
  const pct = Math.round(fraction(p) * 100);
  return h('div.progress',
    h('progress', { max: 100, value: pct, 'aria-label': t('outbox.progress') }),
    h('p.muted', t('outbox.progress_text', { done: p.records_done, total: p.records_total,
      bytes: fmtBytes(p.bytes_done), bytes_total: fmtBytes(p.bytes_total) })));
}

async function download() {
  const blob = await outbox.exportFile(state.auth.user.id);
  const a = h('a', { href: URL.createObjectURL(blob),
    download: `xunjian-outbox-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  toast(t('outbox.exported'));
}

function retryLine(op) {
  if (!op?.attempts || state.syncing || !navigator.onLine) return null;
  return h('p.muted', t('outbox.retry', { n: op.attempts,
    time: fmtWhen(new Date(op.next_at).toISOString()), error: errText(op.last_error) }));
}

// Records an older version left without an owner: the user may say they are theirs.
async function unowned(me) {
  const n = (await outbox.ops(null)).length;
  return n ? h('div.note', h('p.warn', t('outbox.unowned', { n })),
    h('button', { type: 'button', onclick: async () => { await outbox.claim(me); render(); sync({ force: true }); } },
      t('outbox.claim'))) : null;
}

export async function render() {
  const me = state.auth.user.id;
  const [recs, points, lastSync, ops, photos, tpls] = await Promise.all([
    outbox.records(me), all('points'), getMeta('last_sync'), outbox.ops(me), all('photos'), all('templates')]);
  const photoRow = new Map(photos.map((p) => [p.sha256, p]));
  const names = new Map(points.map((p) => [p.code, p.name]));
  const opOf = new Map(ops.map((o) => [o.record_id, o]));
  const itemsOf = new Map(tpls.map((tp) => [tp.id, Object.fromEntries((tp.sections || [])
    .flatMap((s) => s.items).map((it) => [it.key, it]))]));
  const bar = h('div#sync-progress', progressBar(state.syncing ? state.progress : null));
  const btn = h('button.primary', { type: 'button', disabled: state.syncing, onclick: async () => {
    if (!navigator.onLine) { toast(t('net.offline_short')); return; }
    btn.disabled = true;
    const res = await sync({ force: true });
    btn.disabled = false;
    if (!res.ok) toast(errText(res.code) === res.code ? t('sync.fail.other') : errText(res.code));
    if (location.hash.startsWith('#/outbox')) render(); // not over the screen the user went on to
  } }, t('outbox.sync_now'));
  const items = recs.map((r) => {
    let s = r._sync || { state: 'pending' };
    // "Sending" left over from a run that was cut off (app closed mid-request) is pending.
    if (s.state === 'sending' && !state.syncing) s = { ...s, state: 'pending' };
    const photoBytes = (r.photos || []).reduce((a, p) => a + (p.size || 0), 0);
    const n = (r.photos || []).length;
    return h('li.rec', { 'data-state': s.state, 'data-id': r.id },
      h('div.rec-head', h('a', { href: `#/form/${r.id}` }, h('strong', names.get(r.point_code) || r.point_code)),
        ' ', syncBadge(s.state)),
      h('p.muted', t('outbox.submitted_at', { date: fmtWhen(r.submitted_at) }), ' · ',
        n ? t('outbox.photos', { n, bytes: fmtBytes(photoBytes) }) : t('outbox.no_photos')),
      photoNote(r, s, photoRow),
      stateNote(r, itemsOf.get(`${r.template_key}@${r.template_version}`)),
      s.state === 'pending' ? retryLine(opOf.get(r.id)) : null);
  });
  mount(
    h('h2', t('outbox.title')),
    h('p', t('outbox.summary', { n: ops.length }), ' ',
      h('span.muted', lastSync ? t('outbox.last_sync', { date: fmtWhen(lastSync) }) : t('outbox.never_synced'))),
    h('div.actions', btn,
      h('button', { type: 'button', onclick: download, disabled: !ops.length }, t('outbox.export'))),
    bar,
    await unowned(me),
    await othersNote(me),
    items.length ? h('ul.plain.recs', items) : h('p.empty', t('outbox.empty')),
  );
  off?.();
  let acked = state.progress?.records_done;
  off = onSyncEvent((m) => {
    if (m.type === 'sync-start') btn.disabled = true;
    if (m.type === 'progress' || m.type === 'sync-start') bar.replaceChildren(progressBar(state.progress));
    // Records change state as their acks arrive, long before the photos are through.
    if (m.type === 'sync-done' || (m.type === 'progress' && m.records_done !== acked)) render();
  });
}

export function leave() { off?.(); off = null; }
