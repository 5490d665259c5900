// Outbox: every submitted inspection with its sync state; progress; sync now; export.
import { t, fmtDate, fmtBytes, getLang } from '../i18n.js';
import { h, mount, toast } from '../ui.js';
import * as outbox from '../outbox.js';
import { all, getMeta } from '../db.js';
import { sync, onSyncEvent, state } from '../app.js';

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

export function syncBadge(s) {
  return h(`span.tag.sync-${s}`, t(`sync.state.${s}`));
}

function progressBar(p) {
  if (!p) return h('div.progress', { hidden: true });
  const total = p.records_total + p.bytes_total;
  const done = p.records_done + p.bytes_done;
  return h('div.progress',
    h('progress', { max: total || 1, value: done, 'aria-label': t('outbox.progress') }),
    h('p.muted', t('outbox.progress_text', { done: p.records_done, total: p.records_total,
      bytes: fmtBytes(p.bytes_done), bytes_total: fmtBytes(p.bytes_total) })));
}

async function download() {
  const blob = await outbox.exportFile();
  const a = h('a', { href: URL.createObjectURL(blob),
    download: `xunjian-outbox-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  toast(t('outbox.exported'));
}

export async function render() {
  const [recs, points, lastSync, ops, photos] = await Promise.all([
    outbox.records(), all('points'), getMeta('last_sync'), outbox.ops(), all('photos')]);
  const photoRow = new Map(photos.map((p) => [p.sha256, p]));
  const names = new Map(points.map((p) => [p.code, p.name]));
  const opOf = new Map(ops.map((o) => [o.record_id, o]));
  const bar = h('div#sync-progress', progressBar(state.syncing ? state.progress : null));
  const msg = (s) => (getLang() === 'en' ? s.message_en : s.message_zh) || s.code || '';
  const btn = h('button.primary', { type: 'button', disabled: state.syncing, onclick: async () => {
    if (!navigator.onLine) { toast(t('net.offline_short')); }
    btn.disabled = true;
    const res = await sync({ force: true });
    btn.disabled = false;
    if (!res.ok) toast(errText(res.code) === res.code ? t('sync.fail.other') : errText(res.code));
    render();
  } }, t('outbox.sync_now'));
  const items = recs.map((r) => {
    const s = r._sync || { state: 'pending' };
    const op = opOf.get(r.id);
    const photoBytes = (r.photos || []).reduce((a, p) => a + (p.size || 0), 0);
    return h('li.rec', { 'data-state': s.state, 'data-id': r.id },
      h('div.rec-head', h('strong', names.get(r.point_code) || r.point_code), ' ', syncBadge(s.state)),
      h('p.muted', t('outbox.submitted_at', { date: fmtDate(r.submitted_at, true) }), ' · ',
        t('outbox.photos', { n: (r.photos || []).length, bytes: fmtBytes(photoBytes) })),
      photoNote(r, s, photoRow),
      s.state === 'rejected' || s.state === 'conflict'
        ? h('p.warn', t(`outbox.reason_${s.state}`, { reason: msg(s) })) : null,
      op && op.attempts ? h('p.muted', t('outbox.retry', { n: op.attempts,
        time: fmtDate(new Date(op.next_at).toISOString(), true), error: errText(op.last_error) })) : null);
  });
  mount(
    h('h2', t('outbox.title')),
    h('p', t('outbox.summary', { n: ops.length }), ' ',
      h('span.muted', lastSync ? t('outbox.last_sync', { date: fmtDate(lastSync, true) }) : t('outbox.never_synced'))),
    h('div.actions', btn,
      h('button', { type: 'button', onclick: download, disabled: !ops.length }, t('outbox.export'))),
    bar,
    items.length ? h('ul.plain.recs', items) : h('p.empty', t('outbox.empty')),
  );
  off?.();
  off = onSyncEvent((m) => {
    if (m.type === 'progress' || m.type === 'sync-start') bar.replaceChildren(progressBar(state.progress));
    if (m.type === 'sync-done') render();
  });
}

export function leave() { off?.(); off = null; }
