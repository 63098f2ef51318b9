/* Order detail page: a map of the order's priced groups. */
(function () {
  "use strict";
  const el = document.getElementById("order-map");
  const data = document.getElementById("order-groups");
  if (!el || !data || !window.geopera) return;
  const map = geopera.createMap(el);
  const layer = L.geoJSON(geopera.unwrapAntimeridian(JSON.parse(data.textContent), true), {
    style: { color: "#0f6e8c", weight: 2, fillColor: "#0f6e8c", fillOpacity: 0.2 },
    onEachFeature: function (f, l) {
      l.bindTooltip(geopera.escape(f.properties.name) + " · " + geopera.formatCredits(f.properties.credits));
    },
  }).addTo(map);
  const bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 13 });
  window.geoperaOrderMap = map;
})();
