// Home: unfinished drafts, then my service points by township, not yet inspected this cycle
// first. The search also finds the other points of my area (covering for a colleague).
import { t, fmtDate, fmtWhen } from '../i18n.js';
import { h, mount } from '../ui.js';
import { pointsOverview } from '../data.js';
import { ratingBadge, othersNote } from '../widgets.js';
import { state } from '../state.js';

let query = '';

function row(r, other) {
  const p = r.point;
  const meta = [];
  const l = r.last;
  meta.push(l
    ? h('span', t(l.by ? 'home.last_by' : 'home.last', { date: fmtDate(l.submitted_at), name: l.by }), ' ', ratingBadge(l.rating))
    : h('span.muted', t('home.never')));
  if (r.followups) {
    meta.push(h('span.tag.r-fail', t(r.overdue ? 'home.followups_overdue' : 'home.followups',
      { n: r.followups })));
  }
  if (r.draft) meta.push(h('span.tag.draft', t('home.draft')));
  if (r.rejected) meta.push(h('span.tag.sync-rejected', t('home.rejected')));
  if (other) meta.push(h('span.tag', t('home.other')));
  return h('li', h('a.point', { href: `#/point/${encodeURIComponent(p.code)}` },
    h('span.name', p.name, ' ', h('span.kind', t(`kind.${p.kind || 'village'}`))),
    h('span.meta', meta),
    h('span.tag', { class: r.inCycle ? 'done' : 'todo' }, t(r.inCycle ? 'home.done' : 'home.todo'))));
}

// Every word typed must appear in the point's name, code or township ("梁山 官地").
function matcher(q) {
  const words = q.trim().toLowerCase().split(/\s+/).filter(Boolean);
  return (r, g) => {
    const hay = `${r.point.name} ${r.point.code} ${g.name}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  };
}

function section(g, rows, other) {
  const id = `g-${other ? 'o' : 'm'}-${g.code}`;
  return h('section.group', { 'aria-labelledby': id },
    h('h3', { id }, g.name, ' ',
      other ? null : h('span.muted', t('home.group_count', { todo: g.todo, n: g.rows.length }))),
    h('ul.points', rows.map((r) => row(r, other))));
}

let view = null;

function top(data, others) {
  const todo = data.groups.reduce((a, g) => a + g.todo, 0);
  return [
    others,
    h('p.muted', data.cycle
      ? t('home.cycle', { name: data.cycle.name || data.cycle.id, todo, n: data.total })
      : t('home.no_cycle', { n: data.total })),
    data.drafts.length ? h('section.card.drafts', { 'aria-labelledby': 'drafts-h' },
      h('h3#drafts-h', t('home.drafts', { n: data.drafts.length })),
      h('ul.plain', data.drafts.map(({ rec, name }) => h('li',
        h('a.draft-link', { href: `#/form/${rec.id}` }, h('strong', name), ' ',
          h('span.muted', t('home.draft_saved', { time: fmtWhen(rec._updated || rec.started_at) }))))))) : null,
  ];
}

export async function render() {
  const data = await pointsOverview();
  const list = h('div#groups');
  const head = h('div#home-top', top(data, await othersNote(state.auth?.user?.id)));
  const draw = () => {
    const q = query.trim();
    const match = matcher(q);
    const pick = (groups, other) => groups.map((g) => {
      const rows = g.rows.filter((r) => !q || match(r, g));
      return rows.length ? section(g, rows, other) : null;
    }).filter(Boolean);
    const d = view.data;
    const parts = pick(d.groups, false);
    const others = q ? pick(d.others, true) : [];
    if (others.length) parts.push(h('h3.sub', t('home.others_found')), ...others);
    if (!parts.length) parts.push(h('p.empty', t(d.total || d.othersTotal ? 'home.no_match' : 'home.no_points')));
    if (!q && d.othersTotal) parts.push(h('p.muted.note', t('home.others_hint', { n: d.othersTotal })));
    list.replaceChildren(...parts);
  };
  view = { data, draw, head };
  const search = h('input', { id: 'search', type: 'search', value: query, autocomplete: 'off',
    enterkeyhint: 'search', placeholder: t('home.search_ph'),
    oninput: (e) => { query = e.target.value; draw(); } });
  mount(
    h('h2', t('home.title')),
    head,
    h('div.search', h('label', { for: 'search' }, t('home.search')), search),
    list,
  );
  draw();
}

// After a background sync: new data, same search box (typing must not lose focus).
export async function refresh() {
  const v = view;
  if (!v || !v.head.isConnected) return;
  v.data = await pointsOverview();
  v.head.replaceChildren(...top(v.data, await othersNote(state.auth?.user?.id)).filter(Boolean));
  v.draw();
}
