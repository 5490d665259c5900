// Checks pwa/js/route.js under node: `node tests/pwa/run_route_cases.mjs` prints
// {"failures": [...], "checked": n}; tests/pwa/test_route_js.py runs it.
import { planRoute, pathLength, distanceM } from '../../pwa/js/route.js';

const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };
let checked = 0;

// a seeded generator, so a failure is the same failure every run
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function permutations(xs) {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

// 1. Stops on a line, given shuffled: visited in order along it, legs add up to the line.
{
  const start = { lat: 34.5, lon: 108.0 };
  const line = [1, 2, 3, 4, 5].map((k) => ({ code: `p${k}`, lat: 34.5, lon: 108.0 + k * 0.01 }));
  const route = planRoute(start, [line[3], line[0], line[4], line[2], line[1]]);
  check(route.map((r) => r.stop.code).join() === 'p1,p2,p3,p4,p5', `line order ${route.map((r) => r.stop.code)}`);
  const legs = route.reduce((a, r) => a + r.legM, 0);
  check(Math.abs(legs - distanceM(start, line[4])) < 1, `line legs ${legs}`);
  checked++;
}

// 2. Nearest neighbour alone crosses itself here; 2-opt must find the shorter path.
{
  const start = { lat: 0, lon: 0 };
  const pts = [
    { code: 'a', lat: 0, lon: 1 }, { code: 'b', lat: 0, lon: 2.1 }, { code: 'c', lat: 1, lon: 2.1 },
    { code: 'd', lat: 1, lon: 0.9 }, { code: 'e', lat: 0.5, lon: -1.2 },
  ];
  const got = planRoute(start, pts).map((r) => r.stop);
  const best = Math.min(...permutations(pts).map((p) => pathLength(start, p)));
  check(Math.abs(pathLength(start, got) - best) < 1, `crossing case ${got.map((s) => s.code)}`);
  checked++;
}

// 3. Random instances: never longer than nearest neighbour's tour from the same start,
//    and within 10% of the best path (brute force, 7 stops).
{
  const next = rng(20261201);
  let worst = 1;
  for (let n = 0; n < 40; n++) {
    const start = { lat: 34.4 + next() * 0.3, lon: 108.0 + next() * 0.4 };
    const pts = Array.from({ length: 7 }, (_, i) => ({ code: `r${i}`, lat: 34.4 + next() * 0.3, lon: 108.0 + next() * 0.4 }));
    const got = planRoute(start, pts).map((r) => r.stop);
    check(new Set(got.map((s) => s.code)).size === 7, `instance ${n}: every stop once`);
    const best = Math.min(...permutations(pts).map((p) => pathLength(start, p)));
    worst = Math.max(worst, pathLength(start, got) / best);
    checked++;
  }
  check(worst <= 1.1, `2-opt path ${worst.toFixed(3)} x the best`);
}

// 4. Without a start every stop is still placed; the first leg has no distance. Stops
//    without coordinates come last, unmeasured, in their given order.
{
  const pts = [
    { code: 'x', lat: null, lon: null }, { code: 'a', lat: 34.5, lon: 108.0 },
    { code: 'y' }, { code: 'b', lat: 34.5, lon: 108.02 },
  ];
  const route = planRoute(null, pts);
  check(route.map((r) => r.stop.code).join() === 'a,b,x,y' || route.map((r) => r.stop.code).join() === 'b,a,x,y',
    `unplaced last ${route.map((r) => r.stop.code)}`);
  check(route[0].legM === null && route[1].legM > 1000 && route[2].legM === null, 'legs without a start');
  check(planRoute({ lat: 34.5, lon: 108.0 }, []).length === 0, 'an empty day');
  checked++;
}

console.log(JSON.stringify({ failures, checked }));
