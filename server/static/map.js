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
    // Points come grouped by rating: one MultiPoint each, with parallel arrays of codes,
    // names and townships (an index into data.township_names).
    const groups = data.features.filter((f) => f.properties.kind === 'points');
    const count = groups.reduce((n, g) => n + g.geometry.coordinates.length, 0);
    // SVG keeps every marker a DOM element (clickable, testable); past a few thousand
    // markers a canvas draws far faster.
    const map = L.map(el, { preferCanvas: count > 3000, zoomSnap: 0.25 });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { attribution: el.dataset.attribution, maxZoom: 18 }).addTo(map);
    } else {
      map.attributionControl.remove();
    }
    L.control.scale({ imperial: false }).addTo(map);
    const go = (href) => () => { window.location.href = href; };
    const shapes = L.geoJSON(towns, {
      style: (f) => ({
        fillColor: f.properties.fill, fillOpacity: 0.75, color: '#57606a', weight: 1,
        className: 'xj-township xj-band-' + f.properties.band,
      }),
      onEachFeature: (f, layer) => {
        layer.bindTooltip(words(f.properties.label), { sticky: true });
        layer.on('click', go(f.properties.href));
        layer.on('mouseover', () => layer.setStyle({ weight: 3, color: '#1b1f24' }));
        layer.on('mouseout', () => shapes.resetStyle(layer));
      },
    }).addTo(map);
    const markers = L.featureGroup();
    for (const g of groups) {
      const p = g.properties;
      g.geometry.coordinates.forEach(([lon, lat], i) => {
        const code = p.codes[i];
        const marker = L.circleMarker([lat, lon], {
          radius: 7, fillColor: p.color, fillOpacity: 1, color: '#ffffff', weight: 2,
          className: 'xj-point xj-rating-' + p.rating + ' xj-at-' + code,
        });
        const town = data.township_names[p.townships[i]];
        marker.bindTooltip(words([p.names[i], town, p.word].join(' · ')));
        marker.on('click', go(p.href.replace('{code}', encodeURIComponent(code))));
        markers.addLayer(marker);
      });
    }
    markers.addTo(map);
    const bounds = shapes.getBounds().extend(markers.getBounds());
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [16, 16], maxZoom: 14 });
    } else {
      map.setView([35, 105], 4); // nothing placed yet: China
    }
    el.dataset.ready = String(count);
  }

  fetch(el.dataset.src, { credentials: 'same-origin', headers: { Accept: 'application/geo+json' } })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
    .then(draw)
    .catch(fail);
})();
