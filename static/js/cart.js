/* geopera-web: the archive cart panel.
 *
 * Contract with the archive page (archive.js): it dispatches on `document`
 *   geopera:cart-toggle  {detail: {captureId, feature}}  -> add/remove the capture (server-side cart)
 *   geopera:aoi-changed  {detail: {geometry}}             -> remember the AOI (for clip-to-AOI)
 * and exposes window.geoperaArchive = {map, aoi, highlight(id), featureOf(id)}.
 * After every cart re-render this file draws the cart's billed geometries on geoperaArchive.map and
 * dispatches geopera:cart-changed {detail: {captureIds: [...]}}.
 * The panel itself is server-rendered (templates/orders/_cart_panel.html): prices are never computed here.
 */
(function () {
  "use strict";
  if (window.geoperaCart) return; // loaded twice (page + partial): keep one set of listeners
  const script = document.currentScript;
  const urls = {
    toggle: script.dataset.toggleUrl,
    aoi: script.dataset.aoiUrl,
  };
  // The partial that loaded us is swapped out on every re-render: keep our stylesheet in <head>.
  if (script.dataset.cssUrl && !document.head.querySelector('link[data-cart-css]')) {
    const css = document.createElement("link");
    css.rel = "stylesheet"; css.href = script.dataset.cssUrl; css.dataset.cartCss = "1";
    document.head.appendChild(css);
  }
  let layer = null;
  let lastState = null;
  let state = { captureIds: [], clipped: [], billed: { type: "FeatureCollection", features: [] } };

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  function post(url, values) {
    if (!document.getElementById("cart-panel")) return Promise.resolve();
    return htmx.ajax("POST", url, {
      target: "#cart-panel", swap: "innerHTML", values: values, headers: { "X-CSRFToken": csrfToken() },
    });
  }

  function archive() { return window.geoperaArchive && window.geoperaArchive.map ? window.geoperaArchive : null; }

  let drawTries = 0;
  function draw() {
    const a = archive();
    if (!a) {
      if (drawTries++ < 40) setTimeout(draw, 250); // archive.js may create the map after us
      return;
    }
    drawTries = 0;
    if (!a.map.getPane("cart")) { a.map.createPane("cart"); a.map.getPane("cart").style.zIndex = 420; }
    if (layer) layer.remove();
    layer = L.geoJSON(state.billed, {
      pane: "cart",
      interactive: false,
      // Solid brown edge + amber fill: unlike the AOI (dashed, almost no fill) and the footprints.
      style: { color: "#92400e", weight: 2.5, fillColor: "#f59e0b", fillOpacity: 0.28 },
    }).addTo(a.map);
  }

  function markButtons() {
    const inCart = new Set(state.captureIds);
    document.querySelectorAll("button.js-cart-toggle[data-capture-id]").forEach(function (b) {
      const on = inCart.has(b.dataset.captureId);
      b.classList.toggle("in-cart", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  function sync() {
    const el = document.getElementById("cart-state");
    if (!el) return;
    const raw = el.textContent;
    if (raw === lastState) return;
    lastState = raw;
    try { state = JSON.parse(raw); } catch (e) { return; }
    draw();
    markButtons();
    document.dispatchEvent(new CustomEvent("geopera:cart-changed", { detail: { captureIds: state.captureIds.slice() } }));
  }

  document.addEventListener("geopera:cart-toggle", function (e) {
    const id = e.detail && e.detail.captureId;
    if (id) post(urls.toggle, { capture_id: id });
  });

  document.addEventListener("geopera:aoi-changed", function (e) {
    const geometry = e.detail ? e.detail.geometry : null;
    post(urls.aoi, { geometry: geometry ? JSON.stringify(geometry) : "" });
  });

  // Results rendered after us keep their in-cart marks; the panel re-renders with new state.
  document.addEventListener("htmx:afterSettle", function () { sync(); markButtons(); });

  document.addEventListener("click", function (e) {
    const focus = e.target.closest(".js-cart-focus");
    if (!focus) return;
    const a = archive();
    if (!a) return;
    const id = focus.dataset.captureId;
    if (a.highlight) a.highlight(id);
    const feature = a.featureOf ? a.featureOf(id) : null;
    if (feature) a.map.fitBounds(L.geoJSON(feature).getBounds(), { maxZoom: 12, padding: [30, 30] });
  });

  function start() {
    sync();
    // archive.js ran before us (we are deferred) and may already have announced an AOI from the
    // page's link: tell the server the AOI on screen now, so "clip to AOI" clips to what is shown.
    if (window.geoperaArchive) {
      const aoi = window.geoperaArchive.aoi;
      post(urls.aoi, { geometry: aoi ? JSON.stringify(aoi) : "" });
    }
  }

  window.geoperaCart = { sync: sync, state: function () { return state; } };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
