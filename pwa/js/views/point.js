// One service point: where it is, its open follow-ups, its inspections; start or resume.
import { t, fmtDate, L } from '../i18n.js';
import { h, mount } from '../ui.js';
import { pointDetail, ratingOf, templateFor, currentCycle, template } from '../data.js';
import { put } from '../db.js';
import { uuid, deviceId } from '../outbox.js';
import { go } from '../app.js';
import { ratingBadge } from './home.js';
import { syncBadge } from './outbox.js';

let code = null;

async function start(point) {
  const tpl = await templateFor(point);
  if (!tpl) { go('#/home'); return; }
  const cycle = await currentCycle();
  const rec = {
    id: uuid(), point_code: point.code, template_key: tpl.key, template_version: tpl.version,
    cycle_id: cycle ? cycle.id : null, status: 'draft', answers: {}, photos: [], gps: null,
    notes: '', started_at: new Date().toISOString(), submitted_at: null,
    device_id: await deviceId(), rev: 0, _updated: new Date().toISOString(),
  };
  await put('inspections', rec);
  go(`#/form/${rec.id}`);
}

async function itemLabel(f) {
  if (f.item_label) return L(f.item_label);
  const tpl = f.template_key && await template(f.template_key, f.template_version);
  for (const s of tpl?.sections || []) for (const it of s.items) if (it.key === f.item_key) return L(it.label);
  return f.item_key || '';
}

export async function render(pointCode) {
  code = pointCode || code;
  const { point, inspections, followups } = await pointDetail(code);
  if (!point) { mount(h('h2', t('point.not_found'))); return; }
  const tpl = await templateFor(point);
  const draft = inspections.find((i) => i.status === 'draft');
  const done = inspections.filter((i) => i.status === 'submitted');
  const fuItems = await Promise.all(followups.map(async (f) => h('li',
    h('strong', await itemLabel(f)), ' ',
    f.due_on || f.due_date ? t('point.due', { date: fmtDate(f.due_on || f.due_date) }) : '')));
  const history = await Promise.all(done.map(async (i) => h('li',
    h('span', fmtDate(i.submitted_at)), ' ', ratingBadge(await ratingOf(i)), ' ',
    i._sync ? syncBadge(i._sync.state) : h('span.tag.done', t('sync.state.sent')))));
  const facts = [
    [t('point.code'), point.code],
    [t('point.kind'), t(`kind.${point.kind || 'village'}`)],
    point.address && [t('point.address'), point.address],
    (point.manager_name || point.manager) && [t('point.manager'),
      `${point.manager_name || point.manager}${point.manager_phone ? ' ' + point.manager_phone : ''}`],
    point.lat != null && [t('point.location'), `${(+point.lat).toFixed(4)}, ${(+point.lon).toFixed(4)}`],
  ].filter(Boolean);
  mount(
    h('p.crumb', h('a', { href: '#/home' }, t('nav.back_points'))),
    h('h2', point.name),
    h('dl.facts', facts.map(([k, v]) => [h('dt', k), h('dd', v)])),
    draft
      ? h('div.actions', h('button.primary', { type: 'button', onclick: () => go(`#/form/${draft.id}`) },
        t('point.resume', { date: fmtDate(draft._updated || draft.started_at, true) })))
      : h('div.actions', h('button.primary', { type: 'button', disabled: !tpl, onclick: () => start(point) },
        t('point.start'))),
    tpl ? null : h('p.warn', t('point.no_template')),
    h('h3', t('point.followups', { n: followups.length })),
    followups.length ? h('ul.plain', fuItems) : h('p.muted', t('point.no_followups')),
    h('h3', t('point.history')),
    done.length ? h('ul.plain', history) : h('p.muted', t('home.never')),
  );
}

export const refresh = () => render();
