/* Watches: the new-watch page draws the watched area; the archive page's "Watch this area" link
   carries the archive's current filters and AOI (they live in the URL) to the new-watch form. */
(function () {
  "use strict";
  const el = document.getElementById("watch-map");
  const dataEl = document.getElementById("watch-preview");
  if (el && dataEl && window.L && window.geopera) {
    const map = geopera.createMap(el, {});
    const geom = JSON.parse(dataEl.textContent);
    if (geom) {
      const layer = L.geoJSON(geom, { style: { color: "#d97706", weight: 2, fillOpacity: 0.15 } }).addTo(map);
      map.fitBounds(layer.getBounds(), { padding: [20, 20] });
    }
  }
  document.addEventListener("click", function (ev) {
    const link = ev.target.closest && ev.target.closest("a[data-watch-area]");
    if (!link) return;
    link.href = link.getAttribute("data-watch-area") + window.location.search;
  });
})();
