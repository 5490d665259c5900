// Read models over the local copies: points by township, the current cycle, each point's
// last inspection, open follow-ups, and which template applies.
import { all, get, byIndex } from './db.js';
import { evaluateInspection } from './rules.js';

const today = () => new Date().toISOString().slice(0, 10);

export async function currentCycle() {
  const cycles = await all('cycles');
  const d = today();
  const start = (c) => (c.starts_on || c.start_date || c.starts_at || '').slice(0, 10);
  const end = (c) => (c.ends_on || c.end_date || c.ends_at || '9999').slice(0, 10);
  const flagged = cycles.filter((c) => c.current);
  const open = cycles.filter((c) => start(c) <= d && d <= end(c) && c.status !== 'closed');
  const pool = flagged.length ? flagged : open.length ? open : cycles;
  pool.sort((a, b) => (start(a) < start(b) ? 1 : -1));
  return pool[0] || null;
}

export async function templateFor(point) {
  const kind = point?.kind || 'village';
  const list = (await all('templates')).filter((t) => !t.applies_to || t.applies_to === kind);
  list.sort((a, b) => (b.version || 0) - (a.version || 0));
  return list[0] || null;
}

export const template = (key, version) => get('templates', `${key}@${version}`);

// Township of a point: its own field, else the area chain, else the 9-digit code prefix.
function townshipCode(point, areas) {
  let code = point.township_code || point.area_code;
  for (let i = 0; code && i < 4; i++) {
    const a = areas.get(code);
    if (!a) break;
    if (a.level === 'township' || a.level === 'town' || String(code).length === 9) return code;
    code = a.parent_code;
  }
  return code && String(code).length === 9 ? code : String(point.code).slice(0, 9);
}

const ratingCache = new Map();
export async function ratingOf(ins) {
  if (ins.rating) return typeof ins.rating === 'string' ? ins.rating : ins.rating.code;
  const ck = `${ins.id}:${ins.rev}`;
  if (ratingCache.has(ck)) return ratingCache.get(ck);
  const tpl = await template(ins.template_key, ins.template_version);
  let code = null;
  if (tpl) {
    try { code = evaluateInspection(tpl, ins.answers || {}, ins.photos || []).rating.code; } catch (_) { /* bad record */ }
  }
  ratingCache.set(ck, code);
  return code;
}

export const isOpenFollowup = (f) => !['closed', 'done', 'resolved'].includes(f.status);

export async function pointsOverview() {
  const [points, areaRows, inspections, followups, assignments, cycle, auth] = await Promise.all([
    all('points'), all('areas'), all('inspections'), all('followups'), all('assignments'),
    currentCycle(), get('meta', 'auth'),
  ]);
  // Assignments narrow the list to my points; without any, every point in my scope.
  const areas = new Map(areaRows.map((a) => [a.code, a]));
  const me = auth?.v?.user;
  const mine = assignments.filter((a) => (!cycle || a.cycle_id == null || a.cycle_id === cycle.id)
    && (!me || (a.inspector_id ?? a.user_id) == null || (a.inspector_id ?? a.user_id) === me.id));
  let list = points.filter((p) => p.active !== false);
  if (mine.length) {
    const codes = new Set(mine.map((a) => a.point_code).filter(Boolean));
    const zones = new Set(mine.map((a) => a.area_code).filter(Boolean));
    list = list.filter((p) => codes.has(p.code) || zones.has(p.area_code)
      || zones.has(townshipCode(p, areas)));
  }
  const groups = new Map();
  for (const p of list) {
    const tcode = townshipCode(p, areas);
    const ins = inspections.filter((i) => i.point_code === p.code);
    const done = ins.filter((i) => i.status === 'submitted')
      .sort((a, b) => ((a.submitted_at || '') < (b.submitted_at || '') ? 1 : -1));
    const last = done[0] || null;
    const row = {
      point: p, last, rating: last ? await ratingOf(last) : null,
      draft: ins.find((i) => i.status === 'draft') || null,
      followups: followups.filter((f) => f.point_code === p.code && isOpenFollowup(f)).length,
      inCycle: cycle ? done.some((i) => i.cycle_id === cycle.id) : done.length > 0,
    };
    if (!groups.has(tcode)) {
      groups.set(tcode, { code: tcode, name: areas.get(tcode)?.name || tcode, rows: [] });
    }
    groups.get(tcode).rows.push(row);
  }
  const order = (r) => (r.inCycle ? 1 : 0);
  const out = [...groups.values()];
  for (const g of out) {
    g.rows.sort((a, b) => order(a) - order(b) || String(a.point.code).localeCompare(b.point.code));
    g.todo = g.rows.filter((r) => !r.inCycle).length;
  }
  out.sort((a, b) => (b.todo > 0) - (a.todo > 0) || String(a.code).localeCompare(b.code));
  return { groups: out, cycle, total: list.length };
}

export async function pointDetail(code) {
  const [point, ins, fus] = await Promise.all([
    get('points', code), byIndex('inspections', 'point_code', code),
    byIndex('followups', 'point_code', code),
  ]);
  ins.sort((a, b) => ((a.submitted_at || a.started_at || '') < (b.submitted_at || b.started_at || '') ? 1 : -1));
  return { point, inspections: ins, followups: fus.filter(isOpenFollowup) };
}
