// 今日计划: today's planned points as a route (route.js), from the phone's position when
// the inspector allows it, else from the township branch; each leg's distance. Offline.
import { t, fmtDate } from '../i18n.js';
import { h, mount, toast } from '../ui.js';
import { todayPlan } from '../data.js';
import { planRoute } from '../route.js';

let here = null; // {lat, lon} once a position was read this session

const dist = (m) => (m < 1000 ? t('unit.m', { n: Math.round(m / 10) * 10 })
  : t('unit.km', { n: (m / 1000).toFixed(1) }));

function position(ask) {
  return new Promise((resolve) => {
    if (!navigator.geolocation) { resolve(null); return; }
    const read = () => navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude }),
      () => resolve(null), { enableHighAccuracy: false, timeout: 8000, maximumAge: 300000 });
    if (ask) { read(); return; }
    // Without a tap, only when already allowed: the day's list must not open on a prompt.
    const perm = navigator.permissions?.query({ name: 'geolocation' });
    if (!perm) { resolve(null); return; }
    perm.then((s) => (s.state === 'granted' ? read() : resolve(null)), () => resolve(null));
  });
}

async function useGps() {
  const p = await position(true);
  if (!p) { toast(t('today.gps_failed')); return; }
  here = p;
  await render();
}

export async function render() {
  const plan = await todayPlan();
  if (!here && plan.todo.length) here = await position(false);
  const start = here || plan.branch;
  const route = planRoute(start, plan.todo.map((x) => ({ ...x, lat: x.point.lat, lon: x.point.lon })));
  const total = route.reduce((a, r) => a + (r.legM || 0), 0);
  const from = here ? t('today.from_here') : plan.branch ? t('today.from_branch', { name: plan.branch.name })
    : t('today.no_start');
  mount(
    h('h2', t('today.title')),
    h('p.muted', t('today.date', { date: fmtDate(plan.day), n: plan.todo.length })),
    ...(plan.todo.length ? [
      h('p.route-from', from, total ? ` · ${t('today.total', { d: dist(total) })}` : ''),
      h('div.actions', h('button', { type: 'button', onclick: useGps }, t('today.use_gps'))),
      h('ol.route', route.map(({ stop, legM }, i) => h('li', { 'data-code': stop.point.code },
        h('a.point', { href: `#/point/${encodeURIComponent(stop.point.code)}` },
          h('span.name', stop.point.name, ' ', h('span.kind', t(`kind.${stop.point.kind || 'village'}`))),
          h('span.meta', legM == null
            ? h('span.muted', t(stop.lat == null ? 'today.no_coords' : 'today.first'))
            : h('span.leg', t(i ? 'today.leg' : 'today.first_leg', { d: dist(legM) })),
          ' · ', h('span.muted', t('today.window', { due: fmtDate(stop.plan.due_date) }))))))),
    ] : [h('p.empty', t('today.none'))]),
    ...(plan.done.length ? [h('h3', t('today.done', { n: plan.done.length })),
      h('ul.plain', plan.done.map(({ point }) => h('li', h('a', { href: `#/point/${encodeURIComponent(point.code)}` },
        point.name))))] : []),
  );
}

export const refresh = () => render();
