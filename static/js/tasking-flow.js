/* Tasking flow: AOI drawing/upload on /tasking/new, small AOI maps, deadline countdowns, confirm dialogs. */
(function () {
  "use strict";
  const geopera = window.geopera || {};
  const AOI_STYLE = { color: "#0f6e8c", weight: 2, fillOpacity: 0.18 };

  function parseJson(text) { try { return JSON.parse(text); } catch (e) { return null; } }

  /* ---------- read-only AOI maps (inbox rows, support desk) ---------- */
  function initAoiMaps(root) {
    (root || document).querySelectorAll("[data-aoi-map]").forEach(function (el) {
      if (el.dataset.ready) return;
      el.dataset.ready = "1";
      const small = el.classList.contains("map-xs");
      const map = geopera.createMap(el, { zoomControl: !small, attributionControl: false, scrollWheelZoom: !small });
      const data = geopera.unwrapAntimeridian(parseJson(el.dataset.geojson || ""), true);  // read-only: safe to shift
      if (!data || !data.features || !data.features.length) return;
      const layer = L.geoJSON(data, { style: AOI_STYLE, onEachFeature: function (f, l) {
        if (f.properties && f.properties.name) l.bindTooltip(geopera.escape(f.properties.name));
      } }).addTo(map);
      if (el.hasAttribute("data-markers")) {
        // At continental zoom a 10 km AOI is a dot: mark each one so the queue reads at a glance.
        layer.eachLayer(function (l) {
          const c = l.getBounds().getCenter();
          const props = (l.feature && l.feature.properties) || {};
          const m = L.circleMarker(c, { radius: 6, color: "#0f6e8c", weight: 2, fillColor: "#f59e0b", fillOpacity: 0.9 })
            .bindTooltip(geopera.escape(props.name || "")).addTo(map);
          if (props.url) { m.on("click", function () { window.location.href = props.url; }); l.on("click", function () { window.location.href = props.url; }); }
        });
      }
      const bounds = layer.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds.pad(small ? 0.6 : 0.2), { maxZoom: 11 });
    });
  }

  /* ---------- deadline countdowns ---------- */
  function tick() {
    const now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      const t = Date.parse(el.getAttribute("datetime"));
      if (isNaN(t)) return;
      let s = Math.floor((t - now) / 1000);
      if (s <= 0) { el.textContent = "Expired"; el.classList.add("expired"); return; }
      const d = Math.floor(s / 86400); s -= d * 86400;
      const h = Math.floor(s / 3600); s -= h * 3600;
      const m = Math.floor(s / 60); s -= m * 60;
      el.textContent = (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + (d ? "" : s + "s ") + "left";
      el.classList.toggle("soon", t - now < 86400000);
    });
  }

  /* ---------- confirmation dialogs ---------- */
  document.addEventListener("click", function (e) {
    const opener = e.target.closest("[data-dialog]");
    if (opener && !opener.disabled) {
      const dlg = document.getElementById(opener.dataset.dialog);
      if (dlg && dlg.showModal) dlg.showModal();
      return;
    }
    const closer = e.target.closest("dialog [data-close]");
    if (closer) closer.closest("dialog").close();
  });
  document.addEventListener("htmx:beforeRequest", function (e) {
    const dlg = e.target.closest && e.target.closest("dialog");
    if (dlg && dlg.open) dlg.close();
  });

  /* ---------- the request page: draw / upload AOIs ---------- */
  function initRequestMap() {
    const el = document.getElementById("aoi-map");
    if (!el || el.dataset.ready) return;
    el.dataset.ready = "1";
    const map = geopera.createMap(el, {});
    const group = L.featureGroup().addTo(map);
    const input = document.getElementById("aoi-features");
    const counter = document.getElementById("aoi-count");
    map.pm.setGlobalOptions({ allowSelfIntersection: true, layerGroup: group, pathOptions: AOI_STYLE });
    map.pm.addControls({ position: "topleft", drawMarker: false, drawCircleMarker: false, drawPolyline: false,
      drawCircle: false, drawText: false, cutPolygon: false, rotateMode: false, dragMode: false });

    function layers() { return group.getLayers().filter(function (l) { return l.toGeoJSON; }); }
    function sync() {
      const features = layers().map(function (l, i) {
        const f = l.toGeoJSON();
        f.properties = Object.assign({}, f.properties || {}, { name: (f.properties && f.properties.name) || "AOI " + (i + 1) });
        l.bindTooltip(geopera.escape(f.properties.name), { permanent: false });
        return f;
      });
      input.value = features.length ? JSON.stringify({ type: "FeatureCollection", features: features }) : "";
      if (counter) counter.textContent = features.length + " area" + (features.length === 1 ? "" : "s");
      document.body.dispatchEvent(new CustomEvent("aoi-changed"));
    }
    function watch(layer) { layer.on("pm:edit pm:remove", sync); }
    function addGeoJSON(data, fit) {
      const added = [];
      L.geoJSON(data, { style: AOI_STYLE, filter: function (f) { return f.geometry && /Polygon$/.test(f.geometry.type); },
        onEachFeature: function (f, l) { group.addLayer(l); watch(l); added.push(l); } });
      if (fit && group.getLayers().length) map.fitBounds(group.getBounds().pad(0.3), { maxZoom: 12 });
      return added;
    }
    map.on("pm:create", function (e) { group.addLayer(e.layer); watch(e.layer); sync(); });
    map.on("pm:remove", function (e) { group.removeLayer(e.layer); sync(); });

    const initial = parseJson(el.dataset.initial || "");
    if (initial && initial.features && initial.features.length) { addGeoJSON(initial, true); sync(); }

    const upload = document.getElementById("aoi-upload");
    upload && upload.addEventListener("change", function () {
      Array.from(upload.files || []).forEach(function (file) {
        if (!/\.(geo)?json$/i.test(file.name)) {
          // KML and zipped shapefiles are read on the server (GDAL), which answers with the area
          // or says exactly what is wrong with the file.
          const body = new FormData();
          body.append("file", file);
          const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
          fetch(upload.dataset.convertUrl, { method: "POST", body: body, headers: headers, credentials: "same-origin" })
            .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
            .then(function (res) {
              if (!res.ok) { geopera.toast && geopera.toast(res.data.error || (file.name + " could not be read."), "error"); return; }
              addGeoJSON({ type: "Feature", geometry: res.data.geometry, properties: { name: file.name.replace(/\.[^.]+$/, "") } }, true);
              sync();
            })
            .catch(function () { geopera.toast && geopera.toast(file.name + " could not be sent; check your connection.", "error"); });
          return;
        }
        file.text().then(function (text) {
          const data = parseJson(text);
          if (!data) { geopera.toast && geopera.toast(file.name + " is not valid GeoJSON.", "error"); return; }
          const n = addGeoJSON(data, true).length;
          if (!n) geopera.toast && geopera.toast(file.name + " has no Polygon or MultiPolygon features.", "error");
          sync();
        });
      });
      upload.value = "";
    });
    const clear = document.getElementById("aoi-clear");
    clear && clear.addEventListener("click", function () { group.clearLayers(); sync(); });

    // "Use the made-valid shape": replace area i with the server's suggestion.
    document.addEventListener("click", function (e) {
      const btn = e.target.closest("[data-aoi-fix]");
      if (!btn) return;
      const idx = Number(btn.dataset.aoiFix);
      const old = layers()[idx];
      const geometry = parseJson(btn.dataset.geometry || "");
      if (!old || !geometry) return;
      const name = old.toGeoJSON().properties && old.toGeoJSON().properties.name;
      const all = layers();
      group.clearLayers();
      all.forEach(function (l, i) {
        if (i === idx) addGeoJSON({ type: "Feature", geometry: geometry, properties: { name: name } }, false);
        else { group.addLayer(l); }
      });
      sync();
    });
    window.geoperaAoi = { map: map, group: group, add: function (d) { addGeoJSON(d, true); sync(); } };
  }

  function init(root) { initAoiMaps(root); initRequestMap(); }
  document.addEventListener("DOMContentLoaded", function () { init(document); tick(); setInterval(tick, 1000); });
  document.addEventListener("htmx:afterSettle", function (e) { init(e.target); tick(); });
})();

/* Study editor: "Add an option" clones the last option row with the next index (up to the cap). */
(function () {
  "use strict";
  const button = document.getElementById("add-option");
  if (!button) return;
  const rows = document.getElementById("option-rows");
  const count = document.getElementById("option-count");
  const max = Number(button.dataset.max || 10);
  button.addEventListener("click", function () {
    const all = rows.querySelectorAll("[data-option-row]");
    const n = all.length;
    if (n >= max) return;
    const row = all[n - 1].cloneNode(true);
    row.querySelectorAll("[id],[name],[for]").forEach(function (el) {
      ["id", "name", "for"].forEach(function (attr) {
        const v = el.getAttribute(attr);
        if (v) el.setAttribute(attr, v.replace(/^opt-\d+-/, "opt-" + n + "-"));
      });
    });
    row.querySelectorAll("input[name$='-description'], input[name$='-price_credits']").forEach(function (el) { el.value = ""; });
    row.querySelector("legend").innerHTML = "Option " + (n + 1) + ' <span class="muted small">(optional)</span>';
    rows.appendChild(row);
    count.value = String(n + 1);
    button.disabled = n + 1 >= max;
    row.querySelector("input").focus();
  });
})();
