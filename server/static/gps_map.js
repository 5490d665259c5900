// The GPS fix against the registered location, on a small Leaflet map with no tiles: a
// plain background, the two points, the line between them and the fix's accuracy circle.
// Loaded with `defer` after leaflet.js; reads its figures from the element's data-*.
(function () {
  "use strict";
  function num(el, name) {
    var v = el.getAttribute("data-" + name);
    return v === null || v === "" ? null : Number(v);
  }
  function draw(el) {
    var fix = [num(el, "lat"), num(el, "lon")];
    var reg = [num(el, "plat"), num(el, "plon")];
    var acc = num(el, "acc");
    var map = L.map(el, { attributionControl: false, scrollWheelZoom: false });
    L.control.scale({ imperial: false }).addTo(map);
    var line = L.polyline([reg, fix], { color: "#57606a", weight: 2, dashArray: "6 4" }).addTo(map);
    if (acc !== null && acc > 0) {
      L.circle(fix, { radius: acc, color: "#d1242f", weight: 1, fillOpacity: 0.08 }).addTo(map);
    }
    L.circleMarker(reg, { radius: 8, color: "#fff", weight: 2, fillColor: "#0b5cab", fillOpacity: 1 }).addTo(map);
    L.circleMarker(fix, { radius: 8, color: "#fff", weight: 2, fillColor: "#d1242f", fillOpacity: 1 }).addTo(map);
    var bounds = line.getBounds();
    if (bounds.getNorthEast().equals(bounds.getSouthWest())) {
      map.setView(fix, 17);
    } else {
      map.fitBounds(bounds.pad(0.35), { maxZoom: 18 });
    }
  }
  function start() {
    if (!window.L) return;
    var maps = document.querySelectorAll(".gps-map");
    for (var i = 0; i < maps.length; i++) draw(maps[i]);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
