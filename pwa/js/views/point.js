// One service point: where it is, its open follow-ups, its inspections; start or resume.
import { t, fmtDate, fmtWhen, L } from '../i18n.js';
import { h, mount } from '../ui.js';
import { pointDetail, ratingOf, templateFor, currentCycle, itemLabels, dueOf, followupState } from '../data.js';
import { put } from '../db.js';
import { uuid, deviceId, nowIso } from '../outbox.js';
import { go, state } from '../state.js';
import { ratingBadge, syncBadge } from '../widgets.js';

let code = null;

async function start(point) {
  const tpl = await templateFor(point);
  if (!tpl) { go('#/home'); return; }
  const cycle = await currentCycle();
  const now = await nowIso();
  const rec = {
    id: uuid(), point_code: point.code, template_key: tpl.key, template_version: tpl.version,
    cycle_id: cycle ? cycle.id : null, status: 'draft', answers: {}, photos: [], gps: null,
    notes: '', started_at: now, submitted_at: null,
    device_id: await deviceId(), rev: 0, _updated: now, _owner: state.auth.user.id,
  };
  await put('inspections', rec);
  go(`#/form/${rec.id}`);
}

function followupLine(f, labels, today) {
  const due = dueOf(f);
  const st = followupState(f, today);
  return h('li.fu', { class: st === 'overdue' ? 'late' : null, 'data-state': st },
    h('strong', L(labels.get(f.item_key)) || f.item_key || ''), h('br'),
    f.opened_at ? h('span.muted', t('point.found', { date: fmtDate(f.opened_at) })) : null,
    f.opened_at && due ? ' · ' : null,
    st === 'fixed' ? h('span.due', t('point.fixed'))
      : due ? h('span.due', t(st === 'overdue' ? 'point.overdue' : 'point.due', { date: fmtDate(due) })) : null,
    f.responsible ? [h('br'), h('span.muted', t('point.responsible', { name: f.responsible }))] : null);
}

export async function render(pointCode) {
  code = pointCode || code;
  const { point, inspections, visit, followups, today, sameDay } = await pointDetail(code);
  if (!point) { mount(h('h2', t('point.not_found'))); return; }
  const tpl = await templateFor(point);
  const labels = await itemLabels(point);
  const draft = inspections.find((i) => i.status === 'draft');
  const done = inspections.filter((i) => i.status === 'submitted');
  const inactive = point.active === false;
  const history = await Promise.all(done.map(async (i) => [i.submitted_at, h('li',
    h('a.hist', { href: `#/form/${i.id}` },
      h('span', fmtDate(i.submitted_at)), ' ', ratingBadge(await ratingOf(i)), ' ',
      i._sync ? syncBadge(i._sync.state) : h('span.tag.done', t('sync.state.sent'))))]));
  // A colleague's visit: the server's summary only, no record to open.
  if (visit) {
    history.push([visit.submitted_at, h('li.hist', h('span', fmtDate(visit.submitted_at)), ' ',
      ratingBadge(visit.rating), ' ', visit.by && h('span.muted', t('point.by', { name: visit.by })))]);
    history.sort((a, b) => Date.parse(b[0]) - Date.parse(a[0]));
  }
  const phone = point.manager_phone;
  const facts = [
    [t('point.code'), point.code],
    [t('point.kind'), t(`kind.${point.kind || 'village'}`)],
    point.manager_name && [t('point.manager'),
      [`${point.manager_name} `, phone ? h('a', { href: `tel:${phone}` }, phone) : null]],
    point.lat != null && [t('point.location'), `${(+point.lat).toFixed(4)}, ${(+point.lon).toFixed(4)}`],
  ].filter(Boolean);
  followups.sort((a, b) => (dueOf(a) < dueOf(b) ? -1 : 1));
  mount(
    h('p.crumb', h('a', { href: '#/home' }, t('nav.back_points'))),
    h('h2', point.name),
    inactive ? h('p.warn', t(draft ? 'point.inactive_draft' : 'point.inactive')) : null,
    sameDay && !draft ? h('p.warn.today', t(sameDay.by ? 'point.today_by' : 'point.today_me',
      { name: sameDay.by, time: fmtWhen(sameDay.submitted_at) })) : null,
    h('dl.facts', facts.map(([k, v]) => [h('dt', k), h('dd', v)])),
    draft
      ? h('div.actions', h('button.primary', { type: 'button', onclick: () => go(`#/form/${draft.id}`) },
        t('point.resume', { date: fmtWhen(draft._updated || draft.started_at) })))
      : h('div.actions', h('button.primary', { type: 'button', disabled: !tpl || inactive, onclick: () => start(point) },
        followups.length ? t('point.recheck', { n: followups.length }) : t('point.start'))),
    tpl ? null : h('p.warn', t('point.no_template')),
    h('h3', t('point.followups', { n: followups.length })),
    followups.length ? h('ul.plain.fus', followups.map((f) => followupLine(f, labels, today)))
      : h('p.muted', t('point.no_followups')),
    h('h3', t('point.history')),
    history.length ? h('ul.plain.hists', history.map((x) => x[1])) : h('p.muted', t('home.never')),
  );
}

export const refresh = () => render();
