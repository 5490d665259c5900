// Read models over the local copies: points by township, the current cycle, each point's
// last inspection, open follow-ups, and which template applies.
import { all, get, byIndex } from './db.js';
import { evaluateInspection } from './rules.js';
import { nowMs } from './outbox.js';

// Today by the server-corrected clock (a phone a day off must not pick the wrong cycle).
// The local calendar day, not UTC's (China is UTC+8: 07:00 on 1 January is still 31 December
// in UTC).
const localDay = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
export const today = async () => localDay(new Date(await nowMs()));

export async function currentCycle() {
  const cycles = await all('cycles');
  const d = await today();
  const flagged = cycles.filter((c) => c.current);
  const open = cycles.filter((c) => c.start_date <= d && d <= c.end_date);
  const pool = flagged.length ? flagged : open.length ? open : cycles;
  pool.sort((a, b) => (a.start_date < b.start_date ? 1 : -1));
  return pool[0] || null;
}

// The county a point belongs to: up the area chain from its township.
async function countyOf(point) {
  let area = await get('areas', point.township_code);
  for (let i = 0; area && area.level !== 'county' && i < 4; i++) area = await get('areas', area.parent_code);
  return area?.level === 'county' ? area.code : null;
}

// The checklist a new inspection of `point` uses: for the point's kind, its county's own
// latest version, else the latest default: the rule of services/templates.active_version.
// (Never the highest version of any county: a city's phone holds several counties' overrides.)
export async function templateFor(point) {
  const [tpls, county] = await Promise.all([all('templates'), countyOf(point)]);
  const latest = (own) => tpls.filter((t) => t.applies_to === point.kind && own(t.county_code))
    .sort((a, b) => b.version - a.version)[0];
  return (county && latest((c) => c === county)) || latest((c) => c == null) || null;
}

export const template = (key, version) => get('templates', `${key}@${version}`);

const ratingCache = new Map();
export async function ratingOf(ins) {
  if (ins.rating) return ins.rating;
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

// Every status but closed still asks something of the point.
export const isOpenFollowup = (f) => f.status !== 'closed';
// As server/domain/followups.py: an open follow-up past its due date is overdue; a fixed
// one waits for the re-inspection and is not.
export const followupState = (f, today) => (f.status === 'open' && dueOf(f) && dueOf(f) < today
  ? 'overdue' : f.status);

// A rejected submission is not an inspection on the server: it does not count as done.
const counts = (i) => i.status === 'submitted' && i._sync?.state !== 'rejected';
const byDate = (a, b) => ((a.submitted_at || '') < (b.submitted_at || '') ? 1 : -1);
const groupBy = (rows, key) => {
  const m = new Map();
  for (const r of rows) {
    if (!m.has(r[key])) m.set(r[key], []);
    m.get(r[key]).push(r);
  }
  return m;
};
export const dueOf = (f) => (f.due_date || '').slice(0, 10);

// A point's latest visit: the server's summary (anyone's, sync-protocol.md "Change rows"),
// unless one of mine it has not counted yet is later. `by` names a colleague.
async function lastVisit(p, done, me) {
  const s = p.last_inspection;
  const own = done[0];
  if (s && !(own && own.id !== s.id && Date.parse(own.submitted_at) > Date.parse(s.submitted_at))) {
    return { ...s, by: s.inspector_id === me?.id ? null : s.inspector };
  }
  return own && { ...own, rating: await ratingOf(own), by: null };
}

export async function pointsOverview() {
  const [points, areaRows, allIns, followups, assignments, cycle, auth, d] = await Promise.all([
    all('points'), all('areas'), all('inspections'), all('followups'), all('assignments'),
    currentCycle(), get('meta', 'auth'), today(),
  ]);
  // Assignments pick out my points; the rest of my area stays findable by search.
  const areas = new Map(areaRows.map((a) => [a.code, a]));
  const me = auth?.v?.user;
  // A shared phone: only this user's own records and drafts.
  const inspections = allIns.filter((i) => i._owner === me?.id);
  const mine = new Set(assignments.filter((a) => (!cycle || a.cycle_id === cycle.id)
    && (!me || a.inspector_id === me.id)).map((a) => a.point_code));
  const list = points.filter((p) => p.active !== false);
  const isMine = (p) => !mine.size || mine.has(p.code);
  const insBy = groupBy(inspections, 'point_code');
  const fuBy = groupBy(followups.filter(isOpenFollowup), 'point_code');
  const build = () => new Map();
  const sets = { mine: build(), others: build() };
  for (const p of list) {
    const tcode = p.township_code;
    const ins = insBy.get(p.code) || [];
    const done = ins.filter(counts).sort(byDate);
    const last = await lastVisit(p, done, me);
    const fus = fuBy.get(p.code) || [];
    const row = {
      point: p, last,
      draft: ins.find((i) => i.status === 'draft') || null,
      rejected: ins.some((i) => i._sync?.state === 'rejected' && !i._sync.redrafted),
      followups: fus.length,
      overdue: fus.filter((f) => followupState(f, d) === 'overdue').length,
      inCycle: cycle ? [...done, last].some((i) => i?.cycle_id === cycle.id) : !!last,
    };
    const groups = sets[isMine(p) ? 'mine' : 'others'];
    if (!groups.has(tcode)) {
      groups.set(tcode, { code: tcode, name: areas.get(tcode)?.name || tcode, rows: [] });
    }
    groups.get(tcode).rows.push(row);
  }
  const order = (r) => (r.inCycle ? 1 : 0);
  const sorted = (m) => {
    const out = [...m.values()];
    for (const g of out) {
      g.rows.sort((a, b) => order(a) - order(b) || String(a.point.code).localeCompare(b.point.code));
      g.todo = g.rows.filter((r) => !r.inCycle).length;
    }
    return out.sort((a, b) => (b.todo > 0) - (a.todo > 0) || String(a.code).localeCompare(b.code));
  };
  const names = new Map(points.map((p) => [p.code, p.name]));
  const drafts = inspections.filter((i) => i.status === 'draft')
    .map((i) => ({ rec: i, name: names.get(i.point_code) || i.point_code }))
    .sort((a, b) => ((a.rec._updated || '') < (b.rec._updated || '') ? 1 : -1));
  const groups = sorted(sets.mine);
  const others = sorted(sets.others);
  return { groups, others, drafts, cycle,
    total: groups.reduce((a, g) => a + g.rows.length, 0),
    othersTotal: others.reduce((a, g) => a + g.rows.length, 0) };
}

// Item labels by key for a point's checklist, then any other checklist on the phone
// (a follow-up names only its item key).
export async function itemLabels(point) {
  const out = new Map();
  const tpls = await all('templates');
  const first = await templateFor(point);
  for (const tpl of [first, ...tpls.sort((a, b) => (b.version || 0) - (a.version || 0))]) {
    for (const s of tpl?.sections || []) {
      for (const it of s.items) if (!out.has(it.key)) out.set(it.key, it.label);
    }
  }
  return out;
}

export async function pointDetail(code) {
  const [point, rows, fus, auth] = await Promise.all([
    get('points', code), byIndex('inspections', 'point_code', code),
    byIndex('followups', 'point_code', code), get('meta', 'auth'),
  ]);
  const me = auth?.v?.user;
  const ins = rows.filter((i) => i._owner === me?.id);
  ins.sort((a, b) => ((a.submitted_at || a.started_at || '') < (b.submitted_at || b.started_at || '') ? 1 : -1));
  // A colleague's latest visit, known from the point's summary only (no record on the phone).
  const s = point?.last_inspection;
  const visit = s && !ins.some((i) => i.id === s.id) && await lastVisit(point, [], me);
  const d = await today();
  // Inspected today already (by a colleague, or by me): worth a word before another starts.
  const onDay = (i) => i?.submitted_at && localDay(new Date(i.submitted_at)) === d;
  const sameDay = [visit, ...ins.filter((i) => i.status === 'submitted' && i._sync?.state !== 'rejected')]
    .find(onDay) || null;
  return { point, inspections: ins, visit, followups: fus.filter(isOpenFollowup), today: d, sameDay };
}

// 今日计划: my plans whose window holds today (not cancelled), the points still to visit and
// those already visited inside their window, and the township branch to start from (the
// township with most of the day's points).
export async function todayPlan() {
  const [assignments, points, areas, allIns, auth, d] = await Promise.all([
    all('assignments'), all('points'), all('areas'), all('inspections'), get('meta', 'auth'), today(),
  ]);
  const me = auth?.v?.user;
  const byCode = new Map(points.map((p) => [p.code, p]));
  const plans = assignments
    .filter((a) => !a.cancelled && (!me || a.inspector_id === me.id) && byCode.has(a.point_code)
      && a.start_date <= d && d <= a.due_date)
    .sort((a, b) => (a.due_date < b.due_date ? -1 : 1));
  const mine = groupBy(allIns.filter((i) => i._owner === me?.id && counts(i)), 'point_code');
  const todo = [];
  const done = [];
  const seen = new Set();
  for (const plan of plans) {
    if (seen.has(plan.point_code)) continue;
    seen.add(plan.point_code);
    const point = byCode.get(plan.point_code);
    const days = [point.last_inspection, ...(mine.get(point.code) || [])]
      .filter((i) => i?.submitted_at).map((i) => localDay(new Date(i.submitted_at)));
    (days.some((x) => x >= plan.start_date && x <= plan.due_date) ? done : todo).push({ point, plan });
  }
  const towns = groupBy(todo.map((x) => x.point), 'township_code');
  const town = [...towns.keys()].sort((a, b) => towns.get(b).length - towns.get(a).length)[0];
  const area = areas.find((a) => a.code === town);
  const branchPoint = points.find((p) => p.kind === 'branch' && p.township_code === town && p.lat != null);
  const branch = branchPoint ? { name: branchPoint.name, lat: branchPoint.lat, lon: branchPoint.lon }
    : area?.lat != null ? { name: area.name, lat: area.lat, lon: area.lon } : null;
  return { day: d, todo, done, branch };
}
