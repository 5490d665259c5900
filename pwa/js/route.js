// The day's route: an order to visit points in, and each leg's distance, offline. Pure (no
// DOM, no storage) so node tests it (tests/pwa/run_route_cases.mjs) as the browser runs it.
//
// Nearest neighbour from the start gives a fair tour; 2-opt then undoes its crossings
// (reverse a stretch while that shortens the tour), and moving single stops elsewhere
// (or-opt) catches what reversals cannot; both repeat until nothing shortens the path. An open path, not a cycle: the
// inspector does not need to come back to the start. Points without coordinates cannot be
// placed; they go last, in their given order, with no distance.

const R = 6371000;
const rad = (d) => (d * Math.PI) / 180;

/** Great-circle metres between {lat, lon} points. */
export function distanceM(a, b) {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const x = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(x)));
}

const placed = (p) => p && Number.isFinite(+p.lat) && Number.isFinite(+p.lon) && p.lat !== null && p.lon !== null;

/** Length of the path start -> stops[0] -> ... (metres). */
export function pathLength(start, stops) {
  let total = 0;
  let at = start;
  for (const s of stops) {
    if (at) total += distanceM(at, s);
    at = s;
  }
  return total;
}

function nearestNeighbour(start, stops) {
  const left = stops.slice();
  const out = [];
  let at = start || left[0];
  while (left.length) {
    let best = 0;
    for (let i = 1; i < left.length; i++) {
      if (distanceM(at, left[i]) < distanceM(at, left[best])) best = i;
    }
    at = left.splice(best, 1)[0];
    out.push(at);
  }
  return out;
}

function twoOpt(start, tour) {
  // With a start, the path is start, tour...; without, the first stop is free to move too.
  const path = start ? [start, ...tour] : tour.slice();
  const first = start ? 1 : 0;
  const d = (i, j) => distanceM(path[i], path[j]);
  let better = true;
  while (better) {
    better = false;
    for (let i = first; i < path.length - 1; i++) {
      for (let j = i + 1; j < path.length; j++) {
        // reverse path[i..j]: edges (i-1,i) and (j,j+1) become (i-1,j) and (i,j+1)
        const before = (i > 0 ? d(i - 1, i) : 0) + (j + 1 < path.length ? d(j, j + 1) : 0);
        const after = (i > 0 ? d(i - 1, j) : 0) + (j + 1 < path.length ? d(i, j + 1) : 0);
        if (after < before - 1e-6) {
          const mid = path.slice(i, j + 1).reverse();
          path.splice(i, mid.length, ...mid);
          better = true;
        }
      }
    }
    better = relocate(path, first) || better;
  }
  return start ? path.slice(1) : path;
}

// Move one stop to the place in the path where it costs least, if that is shorter.
function relocate(path, first) {
  let moved = false;
  for (let i = first; i < path.length; i++) {
    const len = pathLength(null, path);
    const [s] = path.splice(i, 1);
    let best = i;
    let bestLen = Infinity;
    for (let j = first; j <= path.length; j++) {
      path.splice(j, 0, s);
      const l = pathLength(null, path);
      path.splice(j, 1);
      if (l < bestLen - 1e-6) { bestLen = l; best = j; }
    }
    path.splice(best, 0, s);
    if (bestLen < len - 1e-6 && best !== i) moved = true;
  }
  return moved;
}

/**
 * Order `stops` ({lat, lon, ...}) into a short path from `start` (the phone's position or
 * the township branch; null: begin at whichever stop makes the path shortest to find).
 * Returns [{stop, legM}] in visiting order; legM is null where it cannot be measured.
 */
export function planRoute(start, stops) {
  const from = placed(start) ? start : null;
  const known = stops.filter(placed);
  const unknown = stops.filter((s) => !placed(s));
  const order = known.length > 1 ? twoOpt(from, nearestNeighbour(from, known)) : known;
  const out = [];
  let at = from;
  for (const s of order) {
    out.push({ stop: s, legM: at ? distanceM(at, s) : null });
    at = s;
  }
  for (const s of unknown) out.push({ stop: s, legM: null });
  return out;
}
