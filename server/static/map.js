// The township compliance map (templates/map.html). It draws what /map/data.geojson gives:
// colours, links and tooltip words are decided on the server (services/compliance_map.py),
// so this file holds no words and no rules. Loaded as a file, never inline (CSP).
'use strict';

(function () {
  const el = document.getElementById('map');
  if (!el || !window.L) return;

  function fail() {
    el.textContent = '';
    const p = document.createElement('p');
    p.className = 'map-error';
    p.textContent = el.dataset.error;
    el.appendChild(p);
  }

  // Names are data typed by people: a tooltip gets them as text, never as HTML.
  function words(text) {
    const span = document.createElement('span');
    span.textContent = text;
    return span;
  }

  function draw(data) {
    const towns = data.features.filter((f) => f.properties.kind === 'township');
    const points = data.features.filter((f) => f.properties.kind === 'point');
    // SVG keeps every marker a DOM element (clickable, testable); past a few thousand
    // markers a canvas draws far faster.
    const map = L.map(el, { preferCanvas: points.length > 3000, zoomSnap: 0.25 });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { attribution: el.dataset.attribution, maxZoom: 18 }).addTo(map);
    } else {
      map.attributionControl.remove();
    }
    L.control.scale({ imperial: false }).addTo(map);
    const open = (f) => () => { window.location.href = f.properties.href; };
    const shapes = L.geoJSON(towns, {
      style: (f) => ({
        fillColor: f.properties.fill, fillOpacity: 0.75, color: '#57606a', weight: 1,
        className: 'xj-township xj-band-' + f.properties.band,
      }),
      onEachFeature: (f, layer) => {
        layer.bindTooltip(words(f.properties.label), { sticky: true });
        layer.on('click', open(f));
        layer.on('mouseover', () => layer.setStyle({ weight: 3, color: '#1b1f24' }));
        layer.on('mouseout', () => shapes.resetStyle(layer));
      },
    }).addTo(map);
    const markers = L.geoJSON(points, {
      pointToLayer: (f, latlng) => L.circleMarker(latlng, {
        radius: 7, fillColor: f.properties.color, fillOpacity: 1, color: '#ffffff', weight: 2,
        className: 'xj-point xj-rating-' + f.properties.rating + ' xj-at-' + f.properties.code,
      }),
      onEachFeature: (f, layer) => {
        layer.bindTooltip(words(f.properties.label));
        layer.on('click', open(f));
      },
    }).addTo(map);
    const bounds = shapes.getBounds().extend(markers.getBounds());
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [16, 16], maxZoom: 14 });
    } else {
      map.setView([35, 105], 4); // nothing placed yet: China
    }
    el.dataset.ready = String(points.length);
  }

  fetch(el.dataset.src, { credentials: 'same-origin', headers: { Accept: 'application/geo+json' } })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
    .then(draw)
    .catch(fail);
})();
