// Home: my service points by township; not yet inspected this cycle first; searchable.
import { t, fmtDate } from '../i18n.js';
import { h, mount } from '../ui.js';
import { pointsOverview } from '../data.js';

let query = '';

export function ratingBadge(code) {
  if (!code) return null;
  return h(`span.tag.r-${code}`, t(`rating.${code}`));
}

function row(r) {
  const p = r.point;
  const meta = [];
  meta.push(r.last
    ? h('span', t('home.last', { date: fmtDate(r.last.submitted_at) }), ' ', ratingBadge(r.rating))
    : h('span.muted', t('home.never')));
  if (r.followups) meta.push(h('span.tag.r-fail', t('home.followups', { n: r.followups })));
  if (r.draft) meta.push(h('span.tag.draft', t('home.draft')));
  return h('li', h('a.point', { href: `#/point/${encodeURIComponent(p.code)}` },
    h('span.name', p.name, ' ', h('span.kind', t(`kind.${p.kind || 'village'}`))),
    h('span.meta', meta),
    h('span.tag', { class: r.inCycle ? 'done' : 'todo' }, t(r.inCycle ? 'home.done' : 'home.todo'))));
}

export async function render() {
  const data = await pointsOverview();
  const list = h('div#groups');
  const draw = () => {
    const q = query.trim().toLowerCase();
    const groups = data.groups.map((g) => {
      const rows = g.rows.filter((r) => !q || `${r.point.name} ${r.point.code} ${g.name}`
        .toLowerCase().includes(q));
      if (!rows.length) return null;
      return h('section.group', { 'aria-labelledby': `g-${g.code}` },
        h('h3', { id: `g-${g.code}` }, g.name, ' ',
          h('span.muted', t('home.group_count', { todo: g.todo, n: g.rows.length }))),
        h('ul.points', rows.map(row)));
    }).filter(Boolean);
    list.replaceChildren(...(groups.length ? groups
      : [h('p.empty', t(data.total ? 'home.no_match' : 'home.no_points'))]));
  };
  const search = h('input', { id: 'search', type: 'search', value: query, autocomplete: 'off',
    placeholder: t('home.search_ph'), oninput: (e) => { query = e.target.value; draw(); } });
  const todo = data.groups.reduce((a, g) => a + g.todo, 0);
  mount(
    h('h2', t('home.title')),
    h('p.muted', data.cycle
      ? t('home.cycle', { name: data.cycle.name || data.cycle.id, todo, n: data.total })
      : t('home.no_cycle', { n: data.total })),
    h('div.search', h('label', { for: 'search' }, t('home.search')), search),
    list,
  );
  draw();
}

export const refresh = render;
