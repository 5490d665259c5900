// Pieces several screens show: rating and sync-state tags, and what happened to a submitted
// record with what to do next (outbox list and read-only form).
import { t, L, getLang } from './i18n.js';
import { h } from './ui.js';
import { redraft, othersWaiting } from './outbox.js';
import { getMeta } from './db.js';
import { go } from './state.js';

// A shared phone: other users' records wait here for their own login (me: the user logged
// in, or null on the login screen). Records of no known user are the outbox screen's to claim.
export async function othersNote(me) {
  const names = await getMeta('users', {});
  const lines = (await othersWaiting(me)).filter((o) => o.owner !== null)
    .map(({ owner, n }) => h('p.info.others', t('others.waiting', { n, name: names[owner] || `#${owner}` })));
  return lines.length ? h('div', lines) : null;
}

export function ratingBadge(code) {
  if (!code) return null;
  return h(`span.tag.r-${code}`, t(`rating.${code}`));
}

export function syncBadge(s) {
  return h(`span.tag.sync-${s}`, t(`sync.state.${s}`));
}

// Rejections the inspector can fix in a copy of the record; the others need a supervisor.
const FIXABLE = new Set(['bad_value', 'invalid_op']);

// "answers.book_volumes" -> the item's label; "data.notes" -> "Notes".
function fieldName(field, items) {
  const f = String(field || '').replace(/^data\./, '');
  const m = f.match(/^answers\.(.+)$/);
  if (m) return L(items?.[m[1]]?.label) || m[1];
  if (f === 'notes') return t('form.notes');
  if (/^photos/.test(f)) return t('field.photos');
  if (f === 'gps' || f.startsWith('gps.')) return t('gps.title');
  return f;
}

export function stateNote(rec, items) {
  const s = rec._sync;
  if (!s) return null;
  const byKey = items || {};
  if (s.state === 'rejected') {
    const key = `reject.${s.code}`;
    const why = t(key) === key ? t('reject.other', { code: s.code || '?' })
      : t(key, { item: fieldName(s.field, byKey) });
    const fix = FIXABLE.has(s.code);
    const server = (getLang() === 'en' ? s.message_en : s.message_zh) || '';
    return h('div.note',
      h('p.warn', h('strong', t('outbox.rejected_why')), ' ', why),
      h('p', t(fix ? 'outbox.next_fix' : 'outbox.next_contact')),
      s.redrafted
        ? h('a.button', { href: `#/form/${s.redrafted}` }, t('outbox.open_redraft'))
        : fix ? h('button', { type: 'button', onclick: async () => {
          const copy = await redraft(rec);
          go(`#/form/${copy.id}`);
        } }, t('outbox.redraft')) : null,
      server ? h('details', h('summary', t('outbox.details')),
        h('p.muted', [s.code, s.field].filter(Boolean).join(' · ')), h('p.muted', server)) : null);
  }
  if (s.state === 'conflict') {
    const fields = String(s.field || '').split(',').filter(Boolean).map((f) => fieldName(f, byKey));
    return h('div.note',
      h('p.warn', t(fields.length ? 'outbox.conflict_fields' : 'outbox.conflict', { fields })),
      h('p', t('outbox.next_conflict')));
  }
  return null;
}
