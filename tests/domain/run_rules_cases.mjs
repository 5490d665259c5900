// Runs tests/cases/rule_cases.json through pwa/js/rules.js.
//
// The loader and the comparison below are data-only and take the engine as an argument, so
// a browser test can import this file, fetch the same JSON and pass the served rules.js.
// From Node (`node tests/domain/run_rules_cases.mjs`) it prints
// {"results": {case name: evaluation}, "failures": {case name: [mismatch, ...]}}; an optional
// argument names another cases file of the same shape (tests/domain/test_rules_js.py fuzzes).

/** The template dict a case runs against, with its param overrides applied. */
export function resolveTemplate(engine, testCase, builtin) {
  const t = testCase.template;
  const template = typeof t === "string" ? builtin[t] : t;
  if (!template) throw new Error(`${testCase.name}: unknown template ${t}`);
  return testCase.params ? engine.applyParams(template, testCase.params) : template;
}

const canon = (v) =>
  Array.isArray(v)
    ? `[${v.map(canon).join(",")}]`
    : v && typeof v === "object"
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canon(v[k])}`)
          .join(",")}}`
      : JSON.stringify(v);

/** Mismatches between a case's `expect` and an evaluation (empty list: the case passes). */
export function checkExpect(testCase, result) {
  const problems = [];
  const want = testCase.expect || {};
  for (const [key, exp] of Object.entries(want.items || {})) {
    const got = result.items[key];
    if (!got) {
      problems.push(`item ${key}: not in result`);
      continue;
    }
    for (const field of Object.keys(exp)) {
      if (canon(got[field]) !== canon(exp[field])) {
        problems.push(`item ${key} ${field}: got ${canon(got[field])}, want ${canon(exp[field])}`);
      }
    }
  }
  for (const [field, exp] of Object.entries(want.rating || {})) {
    if (canon(result.rating[field]) !== canon(exp)) {
      problems.push(`rating ${field}: got ${canon(result.rating[field])}, want ${canon(exp)}`);
    }
  }
  if (Object.hasOwn(want, "warnings") && canon(result.warnings) !== canon(want.warnings)) {
    problems.push(`warnings: got ${canon(result.warnings)}, want ${canon(want.warnings)}`);
  }
  return problems;
}

/** Evaluate every case; returns {results, failures} keyed by case name. */
export function runCases(engine, cases, builtin) {
  const results = {};
  const failures = {};
  for (const c of cases) {
    const template = resolveTemplate(engine, c, builtin);
    const result = engine.evaluateInspection(template, c.answers, c.photos);
    results[c.name] = result;
    const problems = checkExpect(c, result);
    if (problems.length) failures[c.name] = problems;
  }
  return { results, failures };
}

async function main() {
  const { readFileSync, readdirSync } = await import("node:fs");
  const { pathToFileURL } = await import("node:url");
  const root = new URL("../../", import.meta.url);
  const engine = await import(new URL("pwa/js/rules.js", root));
  const read = (rel) => JSON.parse(readFileSync(new URL(rel, root), "utf-8"));
  const builtin = {};
  for (const name of readdirSync(new URL("server/checklists/", root)).sort()) {
    if (!name.endsWith(".json")) continue;
    const t = read(`server/checklists/${name}`);
    builtin[t.key] = t;
  }
  const file = process.argv[2]
    ? pathToFileURL(process.argv[2])
    : new URL("tests/cases/rule_cases.json", root);
  const { cases } = JSON.parse(readFileSync(file, "utf-8"));
  process.stdout.write(JSON.stringify(runCases(engine, cases, builtin)));
}

if (typeof process !== "undefined" && process.argv[1]) {
  const { pathToFileURL } = await import("node:url");
  if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
}
