/* Coverage page: AOI outlines, covered fill, hatched remainder, toggleable delivered footprints,
   and rows that zoom the map to their AOI. Data comes from the page (json_script "coverage-data"). */
(function () {
  "use strict";
  const el = document.getElementById("coverage-map");
  const dataEl = document.getElementById("coverage-data");
  if (!el || !dataEl || !window.L) return;
  const data = JSON.parse(dataEl.textContent);
  const map = geopera.createMap(el, { zoomSnap: 0.25 });
  // One SVG renderer for every coverage layer, so the hatch <pattern> lives in the same <svg>.
  const renderer = L.svg({ padding: 0.5 }).addTo(map);
  const svg = renderer._container;
  const NS = "http://www.w3.org/2000/svg";
  const defs = document.createElementNS(NS, "defs");
  defs.innerHTML =
    '<pattern id="cov-hatch" patternUnits="userSpaceOnUse" width="9" height="9" patternTransform="rotate(45)">' +
    '<rect width="9" height="9" fill="rgba(245,158,11,0.10)"></rect>' +
    '<line x1="0" y1="0" x2="0" y2="9" stroke="#d97706" stroke-width="2.4" stroke-opacity="0.85"></line></pattern>';
  svg.insertBefore(defs, svg.firstChild);

  const colors = data.colors || {};
  const byKind = function (kind) {
    return { type: "FeatureCollection", features: data.coverage.features.filter(function (f) { return f.properties.kind === kind && f.geometry; }) };
  };
  // The same rounding as the table (orders/templatetags/coverage.py `pct`): never show 100% early.
  function pctText(v) {
    if (v >= 100 - 1e-6) return "100%";
    if (v >= 99.9) return (Math.floor(v * 10) / 10).toFixed(1) + "%";
    return v.toFixed(1) + "%";
  }
  const fmt = function (n) { return geopera.formatArea(n); };

  const covered = L.geoJSON(byKind("covered"), {
    renderer: renderer,
    style: function () { return { stroke: false, fillColor: "#16a34a", fillOpacity: 0.42 }; },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(geopera.escape(f.properties.name) + ": covered " + fmt(f.properties.sqKmArea) + " km² (" + pctText(f.properties.percentage) + ")", { sticky: true });
    },
  });
  const remainder = L.geoJSON(byKind("remainder"), {
    renderer: renderer,
    style: function () { return { color: "#d97706", weight: 1, dashArray: "4 3", fillColor: "url(#cov-hatch)", fillOpacity: 1 }; },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(geopera.escape(f.properties.name) + ": remainder " + fmt(f.properties.sqKmArea) + " km² (" + pctText(f.properties.percentage) + ")", { sticky: true });
    },
  });
  const aoiBounds = {};
  const requested = L.geoJSON(byKind("requested"), {
    renderer: renderer,
    interactive: false,
    style: function (f) { return { color: colors[f.properties.groupId] || "#0f2a3d", weight: 2.5, fill: false }; },
    onEachFeature: function (f, layer) { aoiBounds[f.properties.groupId] = layer.getBounds(); },
  });
  // A permanent label per AOI (name and covered share), so far-apart AOIs read at any zoom.
  const pctOf = {};
  data.coverage.features.forEach(function (f) { if (f.properties.kind === "covered") pctOf[f.properties.groupId] = f.properties.percentage; });
  const labels = L.layerGroup(byKind("requested").features.map(function (f) {
    const b = L.geoJSON(f).getBounds();
    const pct = pctOf[f.properties.groupId] || 0;
    const text = geopera.escape(f.properties.name) + " · " + pctText(pct);
    return L.tooltip({ permanent: true, direction: "top", className: "aoi-label", offset: [0, -4] })
      .setLatLng([b.getNorth(), b.getCenter().lng]).setContent(text);
  }));
  labels.addTo(map);
  const footprints = L.geoJSON(data.footprints, {
    renderer: renderer,
    style: function (f) {
      return f.properties.status === "failed"
        ? { color: "#b91c1c", weight: 1, dashArray: "2 4", fill: false }
        : { color: "#6d28d9", weight: 1.2, fillColor: "#6d28d9", fillOpacity: 0.04 };
    },
    onEachFeature: function (f, layer) {
      const p = f.properties;
      let text = p.scene + " · acquired " + p.acquired + " · delivered " + p.delivered + (p.cloud !== null ? " · cloud " + p.cloud + "%" : "");
      if (p.status === "failed") text += " · FAILED: " + p.reason;
      layer.bindTooltip(geopera.escape(text), { sticky: true, className: "footprint-tip" });
    },
  });

  remainder.addTo(map);
  covered.addTo(map);
  requested.addTo(map);
  const all = requested.getBounds();
  // Room around the AOIs for their labels.
  if (all.isValid()) map.fitBounds(all, { paddingTopLeft: [130, 60], paddingBottomRight: [130, 30] });

  // Layers the tests and people can reach: the legend checkbox and Leaflet's own layer control.
  window.coverageMap = { map: map, covered: covered, remainder: remainder, requested: requested, footprints: footprints };
  L.control.layers(null, { "Covered": covered, "Remainder": remainder, "Delivered footprints": footprints }, { collapsed: true }).addTo(map);
  const toggle = document.getElementById("toggle-footprints");
  function syncToggle() { if (toggle) toggle.checked = map.hasLayer(footprints); }
  if (toggle) {
    toggle.addEventListener("change", function () {
      if (toggle.checked) { footprints.addTo(map); footprints.bringToBack(); } else { map.removeLayer(footprints); }
    });
  }
  map.on("overlayadd overlayremove", syncToggle);

  document.querySelectorAll(".coverage-row").forEach(function (row) {
    function zoom(e) {
      if (e.target.closest("a, button")) return;
      const b = aoiBounds[row.dataset.groupId];
      if (!b) return;
      map.fitBounds(b, { padding: [30, 30] });
      document.querySelectorAll(".coverage-row.is-selected").forEach(function (r) { r.classList.remove("is-selected"); });
      row.classList.add("is-selected");
      el.dataset.zoomedTo = row.dataset.groupId;
    }
    row.addEventListener("click", zoom);
    row.addEventListener("keydown", function (e) { if (e.key === "Enter") zoom(e); });
  });
})();
