/* The archive page: map + filters + results, searching catalog.search with the session.
 *
 * Contract with the cart (see templates/orders/_cart_panel.html):
 *   window.geoperaArchive = {map, aoi, highlight(id), featureOf(id)}
 *   dispatches on document: "geopera:cart-toggle" {captureId, feature}, "geopera:aoi-changed" {geometry}
 *   listens on document:    "geopera:cart-changed" {captureIds: [...]}
 * Feature ids are scene ids.
 *
 * The map draws the whole catalog from vector tiles (/tiles/captures/{z}/{x}/{y}.mvt, Leaflet.VectorGrid
 * on canvas, static/js/vectorgrid-shim.js) with the list's filters in the tile URL: footprints where a
 * tile holds few enough, density cells (a count each) where it is crowded. The list beside it is the
 * paged search (newest first).
 *
 * `?select=ID,ID,…` (the link a watch alert opens) selects exactly those captures: they are drawn
 * selected on the map (a dark edge over their tile style, and an outline layer), listed first and
 * marked in the list (fetched by id when the page of results does not hold them), and counted in a
 * note above the list; the cart panel beside shows what the alert put in the cart.
 */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("archive-config").textContent);
  const form = document.getElementById("archive-filters");
  const resultsEl = document.getElementById("results");
  const countEl = document.getElementById("results-count");
  const noteEl = document.getElementById("results-note");
  const moreBtn = document.getElementById("results-more");
  const aoiStatus = document.getElementById("aoi-status");
  const aoiError = document.getElementById("aoi-error");
  const aoiClear = document.getElementById("aoi-clear");
  const COLORS = { "pleiades-neo": "#7c3aed", pleiades: "#2563eb", spot: "#0891b2", "worldview-legion": "#db2777", skysat: "#ea580c", "sentinel-2-l2a": "#16a34a" };
  // Density classes (captures per cell), lightest to darkest; the legend shows the same.
  const DENSITY = [[1, "#dbeafe"], [10, "#93c5fd"], [100, "#3b82f6"], [1000, "#1d4ed8"], [10000, "#1e3a8a"]];

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  // --- state (mirrored in the URL so a view can be shared) --------------------------------------
  const params = new URLSearchParams(window.location.search);
  const state = { aoi: null, nextToken: null, features: new Map(), inCart: new Set(), seq: 0, selectedId: null, tileUrl: null, linked: new Set() };
  const MAX_LINKED = 500;
  function readUrl() {
    ["start", "end", "gsdmin", "gsdmax"].forEach(function (n) { if (params.get(n)) form.elements[n].value = params.get(n); });
    if (params.get("cloud")) form.elements.cloud.value = params.get("cloud");
    if (params.get("offnadir")) form.elements.offnadir.value = params.get("offnadir");
    if (params.get("collections")) {
      const wanted = new Set(params.get("collections").split(","));
      form.querySelectorAll("input[name=collection]").forEach(function (cb) { cb.checked = wanted.has(cb.value); });
    }
    if (params.get("select")) {
      params.get("select").split(",").map(function (x) { return x.trim(); }).filter(Boolean).slice(0, MAX_LINKED)
        .forEach(function (id) { state.linked.add(id); });
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
    if (state.linked.size) q.set("select", Array.from(state.linked).join(","));
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
  // Panes: the catalog's canvas tiles above the cart's billed shapes (420); the hover outline and
  // the AOI above them, in a pane that takes no pointer events (clicks reach the tiles below).
  map.createPane("catalog"); map.getPane("catalog").style.zIndex = 450;
  map.createPane("catalogTop"); map.getPane("catalogTop").style.zIndex = 460; map.getPane("catalogTop").style.pointerEvents = "none";
  const outline = L.geoJSON(null, { pane: "catalogTop", interactive: false, style: function (f) { return outlineStyle(f.id); },
    onEachFeature: function (f, layer) { layer.on("add", function () { const el = layer.getElement && layer.getElement(); if (el) el.setAttribute("data-capture-id", f.id); }); } }).addTo(map);
  // The captures a link selected (?select=): outlined above the tiles, whatever the zoom.
  const linkedLayer = L.geoJSON(null, { pane: "catalogTop", interactive: false, style: { color: "#0f172a", weight: 3, dashArray: null, fill: false },
    onEachFeature: function (f, layer) { layer.on("add", function () { const el = layer.getElement && layer.getElement(); if (el) el.setAttribute("data-linked-id", f.id); }); } }).addTo(map);
  const aoiLayer = L.geoJSON(null, { pane: "catalogTop", style: { color: "#f59e0b", weight: 2, dashArray: "6 4", fillOpacity: 0.05 }, interactive: false, pmIgnore: true }).addTo(map);
  let hoverId = null;

  function captureStyle(p) {
    const id = p.id;
    const color = COLORS[p.collection] || "#0f6e8c";
    const hot = id === hoverId || id === state.selectedId;
    const linked = state.linked.has(id);
    if (state.inCart.has(id)) return { fill: true, color: linked ? "#0f172a" : "#b45309", weight: linked ? 4 : 3, fillColor: "#f59e0b", fillOpacity: hot || linked ? 0.45 : 0.3 };
    if (linked) return { fill: true, color: "#0f172a", weight: 4, fillColor: color, fillOpacity: 0.4 };
    if (hot) return { fill: true, color: "#0f172a", weight: 3, fillColor: color, fillOpacity: 0.35 };
    return { fill: true, color: color, weight: 1, fillColor: color, fillOpacity: p.collection === "sentinel-2-l2a" ? 0.01 : 0.06 };
  }
  function densityClass(count) { let c = DENSITY[0]; DENSITY.forEach(function (d) { if (count >= d[0]) c = d; }); return c; }
  function densityStyle(p) {
    return { fill: true, stroke: true, color: "#ffffff", weight: 0.5, fillColor: densityClass(p.count)[1], fillOpacity: 0.7 };
  }
  function outlineStyle(id) {
    return state.inCart.has(id) ? { color: "#b45309", weight: 3, fillColor: "#f59e0b", fillOpacity: 0.2 } : { color: "#0f172a", weight: 3, fillOpacity: 0.1 };
  }

  // The list's filters as the tile endpoint takes them (the same parsing as catalog.search).
  function tileQuery() {
    const body = searchBody();
    const q = new URLSearchParams();
    q.set("host_name", body.host_name);
    if (body.collections) q.set("collections", body.collections.join(","));
    if (body.datetime) q.set("datetime", body.datetime);
    if (body.query) q.set("query", JSON.stringify(body.query));
    if (body.intersects) q.set("intersects", tileAoi(body.intersects));
    return q.toString();
  }
  // The AOI for a tile URL, short enough for a request line (gunicorn takes 4,094 bytes): its
  // coordinates to 5 decimals (≈1 m), or, for an AOI with very many vertices, its bounding box
  // (the map then also draws captures inside the box but outside the AOI; the list is exact).
  const MAX_TILE_AOI = 2500;
  function tileAoi(geometry) {
    const round = function (c) { return Array.isArray(c[0]) ? c.map(round) : c.map(function (v) { return Math.round(v * 1e5) / 1e5; }); };
    const text = JSON.stringify({ type: geometry.type, coordinates: round(geometry.coordinates) });
    if (encodeURIComponent(text).length <= MAX_TILE_AOI) return text;
    const b = L.geoJSON(geometry).getBounds();
    const w = b.getWest(), s = b.getSouth(), e = b.getEast(), n = b.getNorth();
    return JSON.stringify({ type: "Polygon", coordinates: [round([[w, s], [e, s], [e, n], [w, n], [w, s]])] });
  }
  const tiles = L.vectorGrid.protobuf(config.tileUrl, {
    pane: "catalog",
    rendererFactory: L.canvas.tile,
    interactive: true,
    maxZoom: 22,
    maxNativeZoom: config.tileMaxZoom,
    fetchOptions: { credentials: "same-origin" },
    vectorTileLayerStyles: { captures: captureStyle, density: densityStyle },
    getFeatureId: function (f) { return f.properties.id != null ? f.properties.id : "cell:" + f.id; },
  });
  function reloadTiles() {
    const url = config.tileUrl + "?" + tileQuery();
    if (url === state.tileUrl) return;
    state.tileUrl = url;
    tiles.setUrl(url, !map.hasLayer(tiles));
    if (!map.hasLayer(tiles)) tiles.addTo(map);
  }
  function restyle(ids) {
    ids.forEach(function (id) { if (id != null) tiles.setFeatureStyle(id, captureStyle); });
  }
  // What the loaded tiles draw now: distinct footprints and density cells (with their counts).
  function drawn() {
    const ids = new Set(); let cells = 0, counted = 0;
    Object.keys(tiles._vectorTiles || {}).forEach(function (key) {
      const feats = tiles._vectorTiles[key]._features || {};
      Object.keys(feats).forEach(function (fid) {
        const f = feats[fid];
        if (f.layerName === "density") { cells += 1; counted += f.feature.properties.count; } else ids.add(fid);
      });
    });
    return { footprints: ids.size, cells: cells, counted: counted };
  }

  const hoverNote = document.getElementById("map-hover");
  tiles.on("mouseover", function (e) {
    const p = e.layer.properties;
    if (p.count != null) {
      hoverNote.textContent = p.count.toLocaleString("en-AU") + (p.count === 1 ? " capture" : " captures") + " here · click to zoom in";
      hoverNote.hidden = false;
      return;
    }
    highlight(p.id, { scroll: true });
  });
  tiles.on("mouseout", function (e) {
    if (e.layer.properties.count != null) { hoverNote.hidden = true; return; }
    highlight(null);
  });
  tiles.on("click", function (e) {
    const p = e.layer.properties;
    if (p.count != null) { map.setView(e.latlng, Math.min(map.getZoom() + 2, config.tileMaxZoom)); return; }
    select(p.id, p, e.latlng);
  });
  // Drawing an AOI: clicks go to the drawing tool, not to the footprints under it.
  map.on("pm:drawstart", function () { mapEl.classList.add("is-drawing"); });
  map.on("pm:drawend", function () { mapEl.classList.remove("is-drawing"); });

  // The legend: what a density cell's shade means (shown while cells are on screen).
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    const div = L.DomUtil.create("div", "density-legend");
    div.setAttribute("data-testid", "density-legend");
    div.innerHTML = "<strong>Captures per cell</strong>" + DENSITY.map(function (d, i) {
      const next = DENSITY[i + 1];
      const label = next ? d[0].toLocaleString("en-AU") + "–" + (next[0] - 1).toLocaleString("en-AU") : "≥ " + d[0].toLocaleString("en-AU");
      return '<span><i class="density-swatch density-' + i + '"></i>' + label + "</span>";
    }).join("") + '<span class="muted">Crowded here: zoom in for footprints</span>';
    return div;
  };
  let legendShown = false;
  function syncLegend() {
    const cells = drawn().cells > 0;
    if (cells && !legendShown) legend.addTo(map);
    if (!cells && legendShown) legend.remove();
    legendShown = cells;
  }
  tiles.on("load", syncLegend);
  tiles.on("tileunload", function () { setTimeout(syncLegend, 0); });

  const esc = geopera.escape;
  function fmtDate(iso) { return new Date(iso).toLocaleString("en-AU", { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "UTC" }) + " UTC"; }
  function cartButton(id) {
    const inCart = state.inCart.has(id);
    return '<button type="button" class="btn btn-sm js-cart-toggle' + (inCart ? " in-cart" : "") + '" data-capture-id="' + esc(id) + '">' + (inCart ? "Remove" : "Add to cart") + "</button>";
  }
  function thumbOf(f) { const a = f.assets || {}; return (a.thumbnail || a.overview || {}).href || ""; }
  function productName(collection) {
    const c = config.collections.find(function (x) { return x.id === collection; });
    return c ? c.name : collection;
  }
  // A popup from the search's item when the list has it, else from the tile's attributes.
  function popupHtml(id, tp) {
    const f = featureOf(id);
    const p = f ? f.properties : {}, price = p.price || {};
    const d = f ? { collection: price.product_name || f.collection, acquired: p.datetime, cloud: p["eo:cloud_cover"], offNadir: p["view:off_nadir"], gsd: p.gsd, credits: price.credits, area: price.area_km2, thumb: thumbOf(f) }
      : { collection: productName(tp.collection), acquired: tp.acquired, cloud: tp.cloud, offNadir: tp.off_nadir, gsd: tp.gsd, credits: tp.credits, area: null, thumb: "/archive/quicklook/" + encodeURIComponent(id) + ".svg" };
    return '<div class="footprint-popup" data-capture-id="' + esc(id) + '">' +
      (d.thumb ? '<img src="' + esc(d.thumb) + '" alt="Quicklook of ' + esc(id) + '">' : "") +
      "<strong>" + esc(id) + "</strong>" +
      "<dl><dt>Acquired</dt><dd>" + esc(fmtDate(d.acquired)) + "</dd>" +
      "<dt>Collection</dt><dd>" + esc(d.collection) + "</dd>" +
      "<dt>Cloud</dt><dd>" + Number(d.cloud).toFixed(1) + "%</dd>" +
      "<dt>Off-nadir</dt><dd>" + Number(d.offNadir).toFixed(1) + "°</dd>" +
      "<dt>GSD</dt><dd>" + esc(d.gsd) + " m</dd>" +
      (d.area != null ? "<dt>Area</dt><dd>" + geopera.formatArea(d.area) + " km²</dd>" : "") +
      "<dt>Price</dt><dd>" + geopera.formatCredits(d.credits) + " · " + geopera.formatAud(d.credits) + "</dd></dl>" +
      cartButton(id) + "</div>";
  }
  function rowHtml(f) {
    const p = f.properties, price = p.price || {};
    return '<li class="result' + (state.inCart.has(f.id) ? " in-cart" : "") + (state.linked.has(f.id) ? " is-linked" : "") + '" data-capture-id="' + esc(f.id) + '" tabindex="0"' + (state.linked.has(f.id) ? ' aria-current="true"' : "") + ">" +
      '<img src="' + esc(thumbOf(f)) + '" alt="" loading="lazy">' +
      '<div><div class="title" title="' + esc(f.id) + '"><span class="swatch swatch-' + esc(f.collection) + '"></span> ' + esc(f.id) + "</div>" +
      '<div class="facts"><span>' + esc(fmtDate(p.datetime)) + "</span><span>" + esc(price.product_name || f.collection) + "</span>" +
      "<span>☁ " + p["eo:cloud_cover"].toFixed(0) + "%</span><span>∠ " + p["view:off_nadir"].toFixed(0) + "°</span><span>" + p.gsd + " m</span>" +
      "<span>" + geopera.formatArea(price.area_km2, 0) + " km²</span></div>" +
      '<div class="price"><span><strong>' + geopera.formatCredits(price.credits) + '</strong> <span class="muted">' + geopera.formatAud(price.credits) + "</span></span>" +
      cartButton(f.id) + "</div></div></li>";
  }

  function rowOf(id) { return resultsEl.querySelector('li.result[data-capture-id="' + CSS.escape(id) + '"]'); }
  function highlight(id, opts) {
    const prev = hoverId;
    if (id === prev) return;
    hoverId = id;
    restyle([prev, id]);
    outline.clearLayers();
    const f = id != null ? featureOf(id) : null;
    if (f) outline.addData(f);
    [prev, id].forEach(function (x) {
      if (x == null) return;
      const row = rowOf(x);
      if (row) row.classList.toggle("is-hover", x === id);
    });
    if (id != null && opts && opts.scroll) {
      const row = rowOf(id);
      if (row) row.scrollIntoView({ block: "nearest" });
    }
  }
  // A click on a footprint: it becomes the selected capture (its row marked and scrolled to, its
  // popup open with the cart button), as a click on its row does.
  function select(id, tileProps, latlng) {
    const prev = state.selectedId;
    state.selectedId = id;
    restyle([prev, id]);
    resultsEl.querySelectorAll("li.result.is-selected").forEach(function (r) { r.classList.remove("is-selected"); });
    const row = rowOf(id);
    if (row) { row.classList.add("is-selected"); row.scrollIntoView({ block: "nearest" }); }
    if (latlng) L.popup({ maxWidth: 280 }).setLatLng(latlng).setContent(popupHtml(id, tileProps || {})).openOn(map);
  }
  function featureOf(id) { return state.features.get(id) || null; }
  function zoomTo(id) {
    const f = featureOf(id);
    if (f) map.fitBounds(L.geoJSON(f).getBounds(), { padding: [40, 40], maxZoom: 13 });
  }

  // --- searching -----------------------------------------------------------------------------------
  // Only what the rows, popups, outline and cart use (STAC fields extension): about half the bytes.
  const LIST_FIELDS = {
    include: ["geometry", "assets.thumbnail.href", "assets.overview.href", "properties.datetime",
      "properties.eo:cloud_cover", "properties.view:off_nadir", "properties.gsd",
      "properties.price.product_name", "properties.price.area_km2", "properties.price.credits"],
  };
  function searchBody() {
    const body = { host_name: config.hostName, limit: config.pageSize, fields: LIST_FIELDS };
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
    if (!append) reloadTiles();
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
      state.features.clear(); resultsEl.innerHTML = ""; outline.clearLayers(); highlight(null);
    }
    if (!append) state.linkedFetched = false;
    let feats = (data.features || []).filter(function (f) { return !state.features.has(f.id); });
    if (!append && state.linked.size) {
      // The selected captures first (in the order the link gave them), then the rest, newest first.
      const first = feats.filter(function (f) { return state.linked.has(f.id); });
      feats = first.concat(feats.filter(function (f) { return !state.linked.has(f.id); }));
    }
    feats.forEach(function (f) { state.features.set(f.id, f); });
    resultsEl.insertAdjacentHTML("beforeend", feats.map(rowHtml).join(""));
    if (!append) syncLinked(data.features || []);
    if (state.selectedId) { const row = rowOf(state.selectedId); if (row) row.classList.add("is-selected"); }
    state.nextToken = data.next || null;
    const n = state.features.size;
    countEl.textContent = n === 0 ? "No captures match" : n.toLocaleString("en-AU") + (state.nextToken ? "+ captures (newest first)" : n === 1 ? " capture" : " captures");
    noteEl.textContent = n === 0 ? (state.aoi ? "Nothing intersects the AOI with these filters." : "Nothing in this view with these filters: pan, zoom out or relax the filters.")
      : state.nextToken ? "Listing the newest " + n.toLocaleString("en-AU") + "; the map shows every match." : state.aoi ? "Intersecting the AOI." : "In the map view.";
    moreBtn.hidden = !state.nextToken;
  }

  // --- the link's selection (?select=) ------------------------------------------------------------
  const linkedNote = document.getElementById("linked-note");
  function syncLinked(pageFeatures) {
    if (!state.linked.size) { if (linkedNote) linkedNote.hidden = true; return; }
    const missing = Array.from(state.linked).filter(function (id) { return !state.features.has(id); });
    if (missing.length && !state.linkedFetched) {
      // Not on this page of results (older, or outside the filters): fetch them by id, once.
      state.linkedFetched = true;
      fetchLinked(missing);
    }
    linkedLayer.clearLayers();
    state.linked.forEach(function (id) { const f = featureOf(id); if (f) linkedLayer.addData(f); });
    restyle(Array.from(state.linked));
    if (linkedNote) {
      const n = state.linked.size, shown = Array.from(state.linked).filter(function (id) { return state.features.has(id); }).length;
      const inCart = Array.from(state.linked).filter(function (id) { return state.inCart.has(id); }).length;
      linkedNote.querySelector("[data-linked-count]").textContent = n + (n === 1 ? " capture selected" : " captures selected") +
        (inCart ? " · " + inCart + " in your cart" : "") + (shown < n ? " · " + (n - shown) + " no longer in the archive" : "");
      linkedNote.hidden = false;
    }
  }
  function fetchLinked(ids) {
    const body = { host_name: config.hostName, ids: ids, limit: Math.min(ids.length, config.maxFeatures) };
    return fetch(config.searchUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: JSON.stringify(body),
    }).then(function (r) { return r.ok ? r.json() : { features: [] }; }).then(function (data) {
      const feats = (data.features || []).filter(function (f) { return !state.features.has(f.id); });
      feats.forEach(function (f) { state.features.set(f.id, f); });
      resultsEl.insertAdjacentHTML("afterbegin", feats.map(rowHtml).join(""));
      syncLinked([]);
    }).catch(function () { /* the note says how many are not shown */ });
  }
  function clearLinked() {
    const ids = Array.from(state.linked);
    state.linked = new Set();
    linkedLayer.clearLayers();
    restyle(ids);
    resultsEl.querySelectorAll("li.result.is-linked").forEach(function (r) { r.classList.remove("is-linked"); r.removeAttribute("aria-current"); });
    if (linkedNote) linkedNote.hidden = true;
    writeUrl();
  }
  if (linkedNote) linkedNote.querySelector("[data-linked-clear]").addEventListener("click", clearLinked);

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
    if (row) { select(row.dataset.captureId); zoomTo(row.dataset.captureId); }
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
    const now = new Set((e.detail && e.detail.captureIds) || []);
    document.querySelectorAll(".js-cart-toggle").forEach(function (btn) {
      const on = now.has(btn.dataset.captureId);
      btn.classList.toggle("in-cart", on);
      btn.textContent = on ? "Remove" : "Add to cart";
    });
    resultsEl.querySelectorAll("li.result").forEach(function (row) { row.classList.toggle("in-cart", now.has(row.dataset.captureId)); });
    const before = state.inCart;
    state.inCart = now;
    restyle(Array.from(new Set([...before, ...now])));
    outline.setStyle(function (f) { return outlineStyle(f.id); });
    if (state.linked.size) syncLinked([]);
  });

  window.geoperaArchive = { map: map, aoi: null, highlight: highlight, featureOf: featureOf, search: search, select: select, tiles: tiles, drawn: drawn,
    linked: function () { return Array.from(state.linked); }, styleOf: function (id) { return captureStyle({ id: id }); } };
  readUrl();
  if (state.aoi) {
    const g = state.aoi; state.aoi = null; setAoi(g, "the linked AOI");
  } else {
    search(false);
  }
})();
