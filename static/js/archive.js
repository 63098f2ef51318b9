/* The archive page: map + filters + results, searching catalog.search with the session.
 *
 * Contract with the cart (see templates/orders/_cart_panel.html):
 *   window.geoperaArchive = {map, aoi, highlight(id), featureOf(id)}
 *   dispatches on document: "geopera:cart-toggle" {captureId, feature}, "geopera:aoi-changed" {geometry}
 *   listens on document:    "geopera:cart-changed" {captureIds: [...]}
 * Feature ids are scene ids.
 */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("archive-config").textContent);
  const form = document.getElementById("archive-filters");
  const resultsEl = document.getElementById("results");
  const countEl = document.getElementById("results-count");
  const noteEl = document.getElementById("results-note");
  const moreBtn = document.getElementById("results-more");
  const mapNote = document.getElementById("map-note");
  const aoiStatus = document.getElementById("aoi-status");
  const aoiError = document.getElementById("aoi-error");
  const aoiClear = document.getElementById("aoi-clear");
  const COLORS = { "pleiades-neo": "#7c3aed", pleiades: "#2563eb", spot: "#0891b2", "worldview-legion": "#db2777", skysat: "#ea580c", "sentinel-2-l2a": "#16a34a" };
  const MAX_DRAWN = 1000; // more polygons than this make the map unreadable (and slow)

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  // --- state (mirrored in the URL so a view can be shared) --------------------------------------
  const params = new URLSearchParams(window.location.search);
  const state = { aoi: null, nextToken: null, features: new Map(), inCart: new Set(), seq: 0 };
  function readUrl() {
    ["start", "end", "gsdmin", "gsdmax"].forEach(function (n) { if (params.get(n)) form.elements[n].value = params.get(n); });
    if (params.get("cloud")) form.elements.cloud.value = params.get("cloud");
    if (params.get("offnadir")) form.elements.offnadir.value = params.get("offnadir");
    if (params.get("collections")) {
      const wanted = new Set(params.get("collections").split(","));
      form.querySelectorAll("input[name=collection]").forEach(function (cb) { cb.checked = wanted.has(cb.value); });
    }
    if (params.get("aoi")) {
      try {
        let g = JSON.parse(params.get("aoi"));
        if (g.type === "Feature") g = g.geometry;
        if (g && (g.type === "Polygon" || g.type === "MultiPolygon")) state.aoi = g;
      } catch (e) { showAoiError("The AOI in the link is not valid GeoJSON."); }
    }
    syncOutputs();
  }
  function writeUrl() {
    const q = new URLSearchParams();
    ["start", "end", "gsdmin", "gsdmax"].forEach(function (n) { if (form.elements[n].value) q.set(n, form.elements[n].value); });
    if (form.elements.cloud.value !== "100") q.set("cloud", form.elements.cloud.value);
    if (form.elements.offnadir.value !== "45") q.set("offnadir", form.elements.offnadir.value);
    const cols = checkedCollections();
    if (cols.length !== config.collections.length) q.set("collections", cols.join(","));
    if (state.aoi) q.set("aoi", JSON.stringify(state.aoi));
    const c = map.getCenter();
    q.set("view", [c.lat.toFixed(4), c.lng.toFixed(4), map.getZoom()].join(","));
    history.replaceState(null, "", window.location.pathname + "?" + q.toString());
  }
  // How many filters narrow the search (dates, cloud, off-nadir, GSD, collections; the AOI has its own control).
  function activeFilterCount() {
    let n = 0;
    ["start", "end", "gsdmin", "gsdmax"].forEach(function (k) { if (form.elements[k].value) n += 1; });
    if (form.elements.cloud.value !== "100") n += 1;
    if (form.elements.offnadir.value !== "45") n += 1;
    if (checkedCollections().length !== config.collections.length) n += 1;
    return n;
  }
  function syncFilterSummary() {
    const n = activeFilterCount();
    document.getElementById("filters-active").textContent = n === 0 ? "No filters" : n + (n === 1 ? " filter" : " filters") + " active";
    document.getElementById("filters-clear").hidden = n === 0;
  }
  function clearFilters() {
    ["start", "end", "gsdmin", "gsdmax"].forEach(function (k) { form.elements[k].value = ""; });
    form.elements.cloud.value = "100";
    form.elements.offnadir.value = "45";
    form.querySelectorAll("input[name=collection]").forEach(function (cb) { cb.checked = true; });
    syncOutputs();
    search(false);
  }
  function syncOutputs() {
    syncFilterSummary();
    document.getElementById("f-cloud-out").textContent = form.elements.cloud.value;
    document.getElementById("f-offnadir-out").textContent = form.elements.offnadir.value;
  }
  function checkedCollections() {
    return Array.from(form.querySelectorAll("input[name=collection]:checked")).map(function (cb) { return cb.value; });
  }

  // --- map ---------------------------------------------------------------------------------------
  const mapEl = document.getElementById("archive-map");
  const view = (params.get("view") || "").split(",").map(Number);
  const map = geopera.createMap(mapEl, view.length === 3 && view.every(isFinite) ? { center: [view[0], view[1]], zoom: view[2] } : { center: [-33.87, 151.21], zoom: 9 });
  const footprints = L.geoJSON(null, { style: styleFor, onEachFeature: bindFeature }).addTo(map);
  const layersById = new Map();
  const aoiLayer = L.geoJSON(null, { style: { color: "#f59e0b", weight: 2, dashArray: "6 4", fillOpacity: 0.05 }, interactive: false, pmIgnore: true }).addTo(map);
  let hoverId = null;

  function styleFor(feature) {
    const id = feature.id;
    const color = COLORS[feature.collection] || "#0f6e8c";
    if (state.inCart.has(id)) return { color: "#b45309", weight: 3, fillColor: "#f59e0b", fillOpacity: id === hoverId ? 0.45 : 0.3 };
    if (id === hoverId) return { color: "#0f172a", weight: 3, fillColor: color, fillOpacity: 0.35 };
    return { color: color, weight: 1, fillColor: color, fillOpacity: feature.collection === "sentinel-2-l2a" ? 0 : 0.03 };
  }
  function bindFeature(feature, layer) {
    layersById.set(feature.id, layer);
    layer.on("add", function () { const el = layer.getElement && layer.getElement(); if (el) el.setAttribute("data-capture-id", feature.id); });
    layer.on("mouseover", function () { highlight(feature.id, { scroll: true }); });
    layer.on("mouseout", function () { highlight(null); });
    layer.bindPopup(function () { return popupHtml(feature); }, { maxWidth: 280 });
  }

  const esc = geopera.escape;
  function fmtDate(iso) { return new Date(iso).toLocaleString("en-AU", { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "UTC" }) + " UTC"; }
  function cartButton(id) {
    const inCart = state.inCart.has(id);
    return '<button type="button" class="btn btn-sm js-cart-toggle' + (inCart ? " in-cart" : "") + '" data-capture-id="' + esc(id) + '">' + (inCart ? "Remove" : "Add to cart") + "</button>";
  }
  function thumbOf(f) { const a = f.assets || {}; return (a.thumbnail || a.overview || {}).href || ""; }
  function popupHtml(f) {
    const p = f.properties, price = p.price || {};
    return '<div class="footprint-popup" data-capture-id="' + esc(f.id) + '">' +
      (thumbOf(f) ? '<img src="' + esc(thumbOf(f)) + '" alt="Quicklook of ' + esc(f.id) + '">' : "") +
      "<strong>" + esc(f.id) + "</strong>" +
      "<dl><dt>Acquired</dt><dd>" + esc(fmtDate(p.datetime)) + "</dd>" +
      "<dt>Collection</dt><dd>" + esc(price.product_name || f.collection) + "</dd>" +
      "<dt>Cloud</dt><dd>" + p["eo:cloud_cover"].toFixed(1) + " %</dd>" +
      "<dt>Off-nadir</dt><dd>" + p["view:off_nadir"].toFixed(1) + "°</dd>" +
      "<dt>GSD</dt><dd>" + p.gsd + " m</dd>" +
      "<dt>Area</dt><dd>" + Number(price.area_km2).toFixed(1) + " km²</dd>" +
      "<dt>Price</dt><dd>" + geopera.formatCredits(price.credits) + " · " + geopera.formatAud(price.credits) + "</dd></dl>" +
      cartButton(f.id) + "</div>";
  }
  function rowHtml(f) {
    const p = f.properties, price = p.price || {};
    return '<li class="result' + (state.inCart.has(f.id) ? " in-cart" : "") + '" data-capture-id="' + esc(f.id) + '" tabindex="0">' +
      '<img src="' + esc(thumbOf(f)) + '" alt="" loading="lazy">' +
      '<div><div class="title" title="' + esc(f.id) + '"><span class="swatch swatch-' + esc(f.collection) + '"></span> ' + esc(f.id) + "</div>" +
      '<div class="facts"><span>' + esc(fmtDate(p.datetime)) + "</span><span>" + esc(price.product_name || f.collection) + "</span>" +
      "<span>☁ " + p["eo:cloud_cover"].toFixed(0) + "%</span><span>∠ " + p["view:off_nadir"].toFixed(0) + "°</span><span>" + p.gsd + " m</span>" +
      "<span>" + Number(price.area_km2).toFixed(0) + " km²</span></div>" +
      '<div class="price"><span><strong>' + geopera.formatCredits(price.credits) + '</strong> <span class="muted">' + geopera.formatAud(price.credits) + "</span></span>" +
      cartButton(f.id) + "</div></div></li>";
  }

  function rowOf(id) { return resultsEl.querySelector('li.result[data-capture-id="' + CSS.escape(id) + '"]'); }
  function highlight(id, opts) {
    const prev = hoverId;
    hoverId = id;
    [prev, id].forEach(function (x) {
      if (x == null) return;
      const layer = layersById.get(x);
      if (layer) { layer.setStyle(styleFor(layer.feature)); if (x === id) layer.bringToFront(); }
      const row = rowOf(x);
      if (row) row.classList.toggle("is-hover", x === id);
    });
    if (id != null && opts && opts.scroll) {
      const row = rowOf(id);
      if (row) row.scrollIntoView({ block: "nearest" });
    }
  }
  function featureOf(id) { return state.features.get(id) || null; }
  function zoomTo(id) {
    const layer = layersById.get(id);
    if (layer) map.fitBounds(layer.getBounds(), { padding: [40, 40], maxZoom: 13 });
  }

  // --- searching -----------------------------------------------------------------------------------
  function searchBody() {
    const body = { host_name: config.hostName, limit: config.pageSize };
    const cols = checkedCollections();
    if (cols.length !== config.collections.length) body.collections = cols;
    const start = form.elements.start.value, end = form.elements.end.value;
    if (start || end) body.datetime = (start ? start + "T00:00:00Z" : "..") + "/" + (end ? end + "T23:59:59Z" : "..");
    const query = {};
    if (form.elements.cloud.value !== "100") query["eo:cloud_cover"] = { lte: Number(form.elements.cloud.value) };
    if (form.elements.offnadir.value !== "45") query["view:off_nadir"] = { lte: Number(form.elements.offnadir.value) };
    const gmin = form.elements.gsdmin.value, gmax = form.elements.gsdmax.value;
    if (gmin || gmax) { query.gsd = {}; if (gmin) query.gsd.gte = Number(gmin); if (gmax) query.gsd.lte = Number(gmax); }
    if (Object.keys(query).length) body.query = query;
    if (state.aoi) {
      body.intersects = state.aoi;
    } else {
      const b = map.getBounds();
      const west = Math.max(-180, b.getWest()), east = Math.min(180, b.getEast());
      body.bbox = [west, Math.max(-90, b.getSouth()), east, Math.min(90, b.getNorth())];
    }
    return body;
  }

  function search(append) {
    const seq = ++state.seq;
    const body = searchBody();
    if (append && state.nextToken) body.next = state.nextToken;
    countEl.textContent = "Searching…";
    return fetch(config.searchUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().then(function (data) { return { ok: r.ok, data: data }; });
    }).then(function (res) {
      if (seq !== state.seq) return; // a newer search superseded this one
      if (!res.ok) {
        const d = res.data || {};
        const msg = d.detail && Array.isArray(d.detail) ? d.detail.map(function (e) { return e.msg; }).join("; ") : (d.detail || "The search failed.");
        countEl.textContent = "Search failed";
        noteEl.textContent = msg;
        return;
      }
      render(res.data, append);
      writeUrl();
    }).catch(function () {
      if (seq === state.seq) { countEl.textContent = "Search failed"; noteEl.textContent = "The server could not be reached."; }
    });
  }

  function render(data, append) {
    if (!append) {
      footprints.clearLayers(); layersById.clear(); state.features.clear(); resultsEl.innerHTML = ""; hoverId = null;
    }
    const feats = data.features || [];
    const room = MAX_DRAWN - state.features.size;
    const shown = feats.slice(0, Math.max(0, room));
    shown.forEach(function (f) { state.features.set(f.id, f); });
    footprints.addData(shown);
    resultsEl.insertAdjacentHTML("beforeend", shown.map(rowHtml).join(""));
    state.nextToken = data.next || null;
    const n = state.features.size;
    const capped = state.features.size >= MAX_DRAWN && state.nextToken;
    countEl.textContent = n === 0 ? "No captures match" : n.toLocaleString("en-AU") + (state.nextToken ? "+ captures (newest first)" : n === 1 ? " capture" : " captures");
    noteEl.textContent = n === 0 ? (state.aoi ? "Nothing intersects the AOI with these filters." : "Nothing in this view with these filters: pan, zoom out or relax the filters.")
      : capped ? "Showing the newest " + MAX_DRAWN + " on the map; narrow the filters or zoom in to see others."
      : state.nextToken ? "Showing the newest " + n + "; load more or zoom in." : state.aoi ? "Intersecting the AOI." : "In the map view.";
    moreBtn.hidden = !state.nextToken || capped;
    mapNote.hidden = !state.nextToken;
    mapNote.textContent = state.nextToken ? "Drawing the newest " + n.toLocaleString("en-AU") + " footprints of more matches" : "";
  }

  let timer = null;
  function debouncedSearch() { clearTimeout(timer); timer = setTimeout(function () { search(false); }, 350); }

  // --- AOI -----------------------------------------------------------------------------------------
  function setAoi(geometry, label) {
    state.aoi = geometry;
    aoiLayer.clearLayers();
    if (geometry) {
      aoiLayer.addData(geometry);
      map.fitBounds(aoiLayer.getBounds(), { padding: [30, 30] });
    }
    aoiClear.hidden = !geometry;
    aoiStatus.textContent = geometry ? "Searching captures that intersect " + (label || "the AOI") + "." : "No AOI: searching the map view.";
    window.geoperaArchive.aoi = geometry;
    document.dispatchEvent(new CustomEvent("geopera:aoi-changed", { detail: { geometry: geometry } }));
    search(false);
  }
  function showAoiError(msg) { aoiError.textContent = msg; aoiError.hidden = !msg; }

  map.pm.setGlobalOptions({ pathOptions: { color: "#f59e0b", dashArray: "6 4" } });
  document.getElementById("aoi-rect").addEventListener("click", function () { showAoiError(""); map.pm.enableDraw("Rectangle"); });
  document.getElementById("aoi-poly").addEventListener("click", function () { showAoiError(""); map.pm.enableDraw("Polygon", { finishOn: "dblclick" }); });
  map.on("pm:create", function (e) {
    const geometry = e.layer.toGeoJSON().geometry;
    map.removeLayer(e.layer); // the AOI layer draws it (one AOI at a time)
    setAoi(geometry, "the drawn " + (e.shape === "Rectangle" ? "rectangle" : "polygon"));
  });
  aoiClear.addEventListener("click", function () { showAoiError(""); setAoi(null); });
  document.getElementById("aoi-file").addEventListener("change", function (e) {
    const file = e.target.files[0];
    if (!file) return;
    showAoiError("");
    aoiStatus.textContent = "Reading " + file.name + "…";
    const fd = new FormData(); fd.append("file", file);
    fetch(config.aoiUploadUrl, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() }, body: fd })
      .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, data: d }; }); })
      .then(function (res) {
        if (!res.ok) { showAoiError(res.data.error || "That file could not be read."); aoiStatus.textContent = state.aoi ? "AOI unchanged." : "No AOI: searching the map view."; return; }
        setAoi(res.data.geometry, res.data.name);
      })
      .catch(function () { showAoiError("The upload failed: the server could not be reached."); })
      .finally(function () { e.target.value = ""; });
  });

  // --- events --------------------------------------------------------------------------------------
  form.addEventListener("input", function () { syncOutputs(); debouncedSearch(); });
  document.getElementById("filters-clear").addEventListener("click", clearFilters);
  form.addEventListener("submit", function (e) { e.preventDefault(); search(false); });
  map.on("moveend", function () { if (!state.aoi) debouncedSearch(); else writeUrl(); });
  moreBtn.addEventListener("click", function () { search(true); });

  resultsEl.addEventListener("mouseover", function (e) {
    const row = e.target.closest("li.result");
    if (row && row.dataset.captureId !== hoverId) highlight(row.dataset.captureId);
  });
  resultsEl.addEventListener("mouseleave", function () { highlight(null); });
  resultsEl.addEventListener("click", function (e) {
    if (e.target.closest(".js-cart-toggle")) return;
    const row = e.target.closest("li.result");
    if (row) zoomTo(row.dataset.captureId);
  });
  resultsEl.addEventListener("keydown", function (e) {
    const row = e.target.closest("li.result");
    if (row && e.key === "Enter" && !e.target.closest("button")) zoomTo(row.dataset.captureId);
  });
  document.addEventListener("click", function (e) {
    const btn = e.target.closest(".js-cart-toggle");
    if (!btn) return;
    const id = btn.dataset.captureId;
    document.dispatchEvent(new CustomEvent("geopera:cart-toggle", { detail: { captureId: id, feature: featureOf(id) } }));
  });
  document.addEventListener("geopera:cart-changed", function (e) {
    state.inCart = new Set((e.detail && e.detail.captureIds) || []);
    document.querySelectorAll(".js-cart-toggle").forEach(function (btn) {
      const on = state.inCart.has(btn.dataset.captureId);
      btn.classList.toggle("in-cart", on);
      btn.textContent = on ? "Remove" : "Add to cart";
    });
    resultsEl.querySelectorAll("li.result").forEach(function (row) { row.classList.toggle("in-cart", state.inCart.has(row.dataset.captureId)); });
    layersById.forEach(function (layer) { layer.setStyle(styleFor(layer.feature)); });
  });

  window.geoperaArchive = { map: map, aoi: null, highlight: highlight, featureOf: featureOf, search: search };
  readUrl();
  if (state.aoi) {
    const g = state.aoi; state.aoi = null; setAoi(g, "the linked AOI");
  } else {
    search(false);
  }
})();
