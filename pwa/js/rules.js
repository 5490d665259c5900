// Checklist rule engine: the twin of server/domain/rules.py, hours.py and rating.py.
//
// The phone shows offline the verdict the server will record, so statuses, codes and params
// must match Python exactly; tests/cases/rule_cases.json is run through both. Templates come
// from the server already validated (server/domain/templates.py), so nothing is checked here.

export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const COMPARISONS = [">=", ">", "<=", "<", "==", "!="];
const TIME = /^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/;
// Python's str.strip() and trim() disagree on a few exotic characters; strip only these.
const BLANK = /^[ \t\n\r\u3000]+|[ \t\n\r\u3000]+$/g;

const has = (obj, key) => Object.hasOwn(obj, key);
const strip = (s) => s.replace(BLANK, "");

/** Round half up to 2 decimals; numbers.py round2 does the same double arithmetic. */
export function round2(x) {
  return Math.floor(x * 100 + 0.5) / 100;
}

function invalid(code, params) {
  const byDay = Object.fromEntries(DAYS.map((d) => [d, 0]));
  return { minutes: 0, hours: 0, days: 0, by_day: byDay, invalid: { code, params } };
}

/** Weekly opening totals; overlapping ranges are merged, never counted twice. */
export function weeklyTotals(hours) {
  if (typeof hours !== "object" || hours === null || Array.isArray(hours)) {
    return invalid("invalid_value", {});
  }
  if (Object.keys(hours).some((k) => !DAYS.includes(k))) return invalid("invalid_value", {});
  const byDay = {};
  let total = 0;
  let days = 0;
  for (const day of DAYS) {
    const ranges = has(hours, day) ? hours[day] : [];
    if (!Array.isArray(ranges)) return invalid("invalid_value", {});
    const spans = [];
    for (const r of ranges) {
      if (!(Array.isArray(r) && r.length === 2 && r.every((t) => typeof t === "string"))) {
        return invalid("invalid_value", {});
      }
      for (const t of r) {
        if (!TIME.test(t)) return invalid("invalid_hours", { day, value: t });
      }
      const start = toMinutes(r[0]);
      const end = toMinutes(r[1]);
      if (start >= end) return invalid("invalid_hours", { day, value: `${r[0]}-${r[1]}` });
      spans.push([start, end]);
    }
    spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let minutes = 0;
    let reach = -1;
    for (const [start, end] of spans) {
      if (end > reach) {
        minutes += end - Math.max(start, reach);
        reach = end;
      }
    }
    byDay[day] = round2(minutes / 60);
    total += minutes;
    if (minutes > 0) days += 1;
  }
  return { minutes: total, hours: round2(total / 60), days, by_day: byDay, invalid: null };
}

function toMinutes(t) {
  return Number(t.slice(0, 2)) * 60 + Number(t.slice(3));
}

/** Photos per item key; the same file (sha256) attached twice to an item counts once. */
export function countPhotos(photos) {
  const counts = {};
  const seen = new Set();
  for (const p of photos || []) {
    if (typeof p !== "object" || p === null || typeof p.item !== "string") continue;
    if (typeof p.sha256 === "string" && p.sha256) {
      const id = `${p.item}\u0000${p.sha256}`;
      if (seen.has(id)) continue;
      seen.add(id);
    }
    counts[p.item] = (has(counts, p.item) ? counts[p.item] : 0) + 1;
  }
  return counts;
}

/** A help text with its `{param}` placeholders filled: the twin of templates.fill_params. */
export function fillParams(text, params) {
  return text.replace(/\{([a-z][a-z0-9_]*)\}/g, (m, name) =>
    params && has(params, name) ? String(params[name]) : m);
}

/** Copy of a template with county threshold overrides; unknown names are refused. */
export function applyParams(template, overrides) {
  const known = template.params || {};
  const unknown = Object.keys(overrides).filter((k) => !has(known, k));
  if (unknown.length) throw new Error(`unknown param(s): ${unknown.join(", ")}`);
  return { ...structuredClone(template), params: { ...known, ...overrides } };
}

function templateItems(template) {
  return template.sections.flatMap((s) => s.items);
}

const optionKeys = (item) => (item.options || []).map((o) => o.key);

class Context {
  constructor(template, answers, photos) {
    this.template = template;
    this.items = new Map(templateItems(template).map((i) => [i.key, i]));
    this.answers = typeof answers === "object" && answers !== null ? answers : {};
    this.counts = countPhotos(photos);
  }

  photoCount(key) {
    return has(this.counts, key) ? this.counts[key] : 0;
  }

  read(item) {
    if (item.type === "photo") {
      const n = this.photoCount(item.key);
      return n ? { state: "ok", value: n } : { state: "none" };
    }
    let v = has(this.answers, item.key) ? this.answers[item.key] : null;
    if (v === null || v === undefined || (typeof v === "string" && !strip(v))) {
      return { state: "none" };
    }
    let ok = false;
    const t = item.type;
    if (t === "number") {
      ok = typeof v === "number" && Number.isFinite(v);
      if (ok && v < 0) return { state: "invalid", code: "negative", params: {} };
      if (ok && item.integer === true && !Number.isInteger(v)) {
        return { state: "invalid", code: "not_integer", params: {} };
      }
    } else if (t === "yesno") {
      ok = typeof v === "boolean";
    } else if (t === "choice") {
      ok = typeof v === "string" && optionKeys(item).includes(v);
    } else if (t === "multicheck") {
      const keys = optionKeys(item);
      ok = Array.isArray(v) && v.every((k) => typeof k === "string" && keys.includes(k));
      const chosen = ok ? v : [];
      v = keys.filter((k) => chosen.includes(k));
    } else if (t === "text") {
      ok = typeof v === "string";
      if (ok) v = strip(v);
    } else if (t === "weekly_hours") {
      const totals = weeklyTotals(v);
      if (totals.invalid) {
        return { state: "invalid", code: totals.invalid.code, params: totals.invalid.params };
      }
      return { state: "ok", value: totals };
    }
    return ok ? { state: "ok", value: v } : { state: "invalid", code: "invalid_value", params: {} };
  }

  amount(v) {
    return typeof v === "object" && v !== null ? this.template.params[v.param] : v;
  }
}

const out = (status, code, params) => ({ status, code, params });

/**
 * Evaluate one item of `template` by key: {status: pass|fail|missing|na, code, params}.
 * "missing" is not inspected: a required item left blank, or a rule that needs a blank
 * required item ("needs_item"). Neither can fail.
 */
export function evaluateItem(template, key, answers, photos) {
  const ctx = new Context(template, answers, photos);
  return itemResult(ctx, ctx.items.get(key));
}

/** Evaluate a whole inspection: {items, rating, warnings} as rules.evaluate. */
export function evaluateInspection(template, answers, photos) {
  const ctx = new Context(template, answers, photos);
  const items = {};
  for (const item of templateItems(template)) items[item.key] = itemResult(ctx, item);
  return { items, rating: rate(template, items), warnings: warnings(ctx) };
}

// Values to check before submitting (a typo like 99999999 seats), never a failure.
function warnings(ctx) {
  const found = [];
  for (const item of templateItems(ctx.template)) {
    if (typeof item.plausible_max !== "number") continue;
    const r = ctx.read(item);
    if (r.state === "ok" && r.value > item.plausible_max) {
      found.push({ item: item.key, code: "implausible", params: { value: r.value, max: item.plausible_max } });
    }
  }
  return found;
}

function itemResult(ctx, item) {
  const r = ctx.read(item);
  if (r.state === "none") {
    return item.required === true
      ? out("missing", "missing_answer", {})
      : out("na", "not_answered", {});
  }
  if (r.state === "invalid") return out("fail", r.code, r.params);
  let params = {};
  if (item.rule !== undefined && item.rule !== null) {
    const blank = blankDependency(ctx, item.rule, item);
    if (blank !== null) return out("missing", "needs_item", { item: blank });
    const [ok, code, p] = evalRule(ctx, item.rule, item);
    if (!ok) return out("fail", code, p);
    params = p;
  }
  const have = ctx.photoCount(item.key);
  const need = item.evidence ? item.evidence.photos : 0;
  if (have < need) return out("fail", "photos_short", { have, need });
  return out("pass", "ok", params);
}

// The first required item, other than `item`, that the rule reads and that was left blank.
function blankDependency(ctx, rule, item) {
  const children = rule.all || rule.any || (has(rule, "not") ? [rule.not] : []);
  for (const child of children) {
    const found = blankDependency(ctx, child, item);
    if (found !== null) return found;
  }
  if (!has(rule, "op") || !has(rule, "item") || rule.item === item.key || rule.op === "photos") {
    return null;
  }
  const target = ctx.items.get(rule.item);
  return target.required === true && ctx.read(target).state === "none" ? rule.item : null;
}

function coded(rule, res) {
  return !res[0] && has(rule, "code") ? [false, rule.code, res[2]] : res;
}

function evalRule(ctx, rule, item) {
  if (has(rule, "all")) {
    for (const child of rule.all) {
      const res = evalRule(ctx, child, item);
      if (!res[0]) return coded(rule, res);
    }
    return [true, "ok", {}];
  }
  if (has(rule, "any")) {
    let first = null;
    for (const child of rule.any) {
      const res = evalRule(ctx, child, item);
      if (res[0]) return [true, "ok", {}];
      first = first || res;
    }
    return coded(rule, first);
  }
  if (has(rule, "not")) {
    const [ok, , params] = evalRule(ctx, rule.not, item);
    return ok ? coded(rule, [false, "forbidden", params]) : [true, "ok", {}];
  }
  const target = has(rule, "item") ? ctx.items.get(rule.item) : item;
  let [ok, code, params] = leaf(ctx, rule, target);
  if (has(rule, "item")) params = { ...params, item: target.key };
  return coded(rule, [ok, code, params]);
}

function leaf(ctx, rule, target) {
  const op = rule.op;
  if (op === "photos") {
    const have = ctx.photoCount(target.key);
    const need = ctx.amount(rule.min);
    return [have >= need, have >= need ? "ok" : "photos_short", { have, need }];
  }
  const r = ctx.read(target);
  if (r.state === "invalid") return [false, r.code, { ...r.params }];
  if (r.state === "none" && has(rule, "if_blank")) {
    return rule.if_blank === "pass" ? [true, "ok", {}] : [false, "missing_answer", {}];
  }
  if (op === "nonempty") {
    const v = r.value;
    const full =
      r.state === "ok" &&
      (target.type !== "multicheck" || v.length > 0) &&
      (target.type !== "weekly_hours" || v.minutes > 0);
    return full ? [true, "ok", {}] : [false, "empty", {}];
  }
  if (r.state === "none") return [false, "missing_answer", {}];
  const v = r.value;
  if (COMPARISONS.includes(op)) {
    const limit = has(rule, "param") ? ctx.template.params[rule.param] : rule.value;
    return compare(op, v, limit);
  }
  if (op === "matches") {
    const ok = regex(rule.pattern).test(v);
    return [ok, ok ? "ok" : "no_match", {}];
  }
  if (op === "includes_all" || op === "includes_any") {
    const wanted = rule.values && rule.values.length ? rule.values : optionKeys(target);
    const chosen = Array.isArray(v) ? v : [v];
    if (op === "includes_all") {
      const missing = wanted.filter((k) => !chosen.includes(k));
      return missing.length ? [false, "missing_options", { missing }] : [true, "ok", {}];
    }
    return wanted.some((k) => chosen.includes(k))
      ? [true, "ok", {}]
      : [false, "none_selected", { values: [...wanted] }];
  }
  if (op === "weekly_hours") {
    const minHours = ctx.amount(has(rule, "min_hours") ? rule.min_hours : 0);
    const minDays = ctx.amount(has(rule, "min_days") ? rule.min_days : 0);
    const p = { hours: v.hours, days: v.days, min_hours: minHours, min_days: minDays };
    if (v.minutes < minHours * 60) return [false, "hours_short", p];
    if (v.days < minDays) return [false, "days_short", p];
    return [true, "ok", p];
  }
  throw new Error(`unknown op ${op}`);
}

function compare(op, v, limit) {
  if (op === "==" || op === "!=") {
    let p;
    let failCode;
    if (typeof limit === "boolean") {
      p = {};
      failCode = op === "==" ? (limit ? "not_yes" : "not_no") : "equal_forbidden";
    } else {
      p = { value: v, expected: limit };
      failCode = op === "==" ? "not_equal" : "equal_forbidden";
    }
    const ok = op === "==" ? v === limit : v !== limit;
    return ok ? [true, "ok", p] : [false, failCode, p];
  }
  const p = op === ">=" || op === ">" ? { value: v, min: limit } : { value: v, max: limit };
  const ok = { ">=": v >= limit, ">": v > limit, "<=": v <= limit, "<": v < limit }[op];
  const failCode = { ">=": "below_min", ">": "not_above", "<=": "above_max", "<": "not_below" }[op];
  return ok ? [true, "ok", p] : [false, failCode, p];
}

const regexCache = new Map();
function regex(pattern) {
  if (!regexCache.has(pattern)) regexCache.set(pattern, new RegExp(pattern));
  return regexCache.get(pattern);
}

/**
 * 达标 good / 基本达标 basic / 不达标 fail / 未完成 incomplete; the twin of rating.py. A
 * critical item failing decides fail; else a required item left blank makes it incomplete.
 */
export function rate(template, results) {
  const criticalFailed = [];
  const notInspected = [];
  let passed = 0;
  let scored = 0;
  let otherPassed = 0;
  let otherScored = 0;
  for (const item of templateItems(template)) {
    const status = results[item.key].status;
    if (status === "missing") notInspected.push(item.key);
    if (item.scored === false) continue;
    if (item.critical === true && status !== "pass" && status !== "missing") criticalFailed.push(item.key);
    if (status === "na") continue;
    scored += 1;
    if (status === "pass") passed += 1;
    if (item.critical !== true) {
      otherScored += 1;
      if (status === "pass") otherPassed += 1;
    }
  }
  const ratio = template.rating ? template.rating.good_ratio : 0.8;
  let code = "basic";
  if (criticalFailed.length) code = "fail";
  else if (notInspected.length) code = "incomplete";
  else if (otherScored === 0 || otherPassed / otherScored >= ratio) code = "good";
  return {
    code,
    critical_failed: criticalFailed,
    not_inspected: notInspected,
    passed,
    scored,
    other_passed: otherPassed,
    other_scored: otherScored,
  };
}
