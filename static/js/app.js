/* geopera-web: shared front-end behaviour (htmx settings, toasts, map factory). */
(function () {
  "use strict";

  // htmx 2 does not swap 4xx/5xx by default. Our error responses say where they go (HX-Retarget
  // to the toast area), so let them swap, and show a toast for anything else that fails.
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "[4]..", swap: true, error: false },
      { code: "...", swap: false, error: true },
    ];
    document.addEventListener("htmx:sendError", function () { geopera.toast("The server could not be reached. Check your connection and retry.", "error"); });
    document.addEventListener("htmx:responseError", function (e) {
      if (e.detail.xhr && e.detail.xhr.status >= 500) geopera.toast("Something went wrong on our side; nothing was changed. Please retry.", "error");
    });
  }

  const geopera = (window.geopera = window.geopera || {});

  geopera.toast = function (message, level) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const div = document.createElement("div");
    div.className = "toast toast-" + (level || "info");
    div.setAttribute("role", "status");
    const span = document.createElement("span");
    span.textContent = message;
    const close = document.createElement("button");
    close.className = "toast-close"; close.type = "button"; close.textContent = "×";
    close.setAttribute("aria-label", "Dismiss");
    close.setAttribute("data-dismiss", ".toast");
    div.append(span, close);
    box.append(div);
    setTimeout(function () { div.remove(); }, 8000);
  };

  // Toasts rendered by the server fade after a while too.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast").forEach(function (t) { setTimeout(function () { t.remove(); }, 8000); });
  });

  // Behaviour declared in markup with data attributes (the CSP allows no inline handlers):
  //   data-autosubmit        on a <select>/<input>: submit its form when it changes
  //   data-dismiss=".sel"    on a button: remove the closest element matching the selector
  //   data-copy-target="#id" on a button: copy that element's text to the clipboard
  //   data-history-back      on a link: go back when there is somewhere to go (the href otherwise)
  document.addEventListener("change", function (e) {
    const el = e.target.closest && e.target.closest("[data-autosubmit]");
    if (el && el.form) el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
  });
  document.addEventListener("click", function (e) {
    const target = e.target.closest ? e.target : e.target.parentElement;
    const dismiss = target.closest("[data-dismiss]");
    if (dismiss) {
      const box = dismiss.closest(dismiss.dataset.dismiss);
      if (box) box.remove();
      return;
    }
    const copy = target.closest("[data-copy-target]");
    if (copy) {
      const source = document.querySelector(copy.dataset.copyTarget);
      if (!source) return;
      const selectIt = function () {
        const range = document.createRange();
        range.selectNodeContents(source);
        const sel = window.getSelection();
        sel.removeAllRanges(); sel.addRange(range);
        geopera.toast("Selected: press Ctrl+C (⌘C) to copy.", "info");
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () { geopera.toast("Copied.", "success"); }, selectIt);
      } else {
        selectIt();
      }
      return;
    }
    const back = target.closest("[data-history-back]");
    if (back && window.history.length > 1) {
      e.preventDefault();
      window.history.back();
    }
  });

  // After an htmx request from an element:
  //   data-after-request-clear="selectors"   empty those fields
  //   data-after-request-dismiss=".sel"      remove the closest element matching the selector
  //   data-skip-request-while="selector"    (before) skip the request while that element exists,
  //                                          e.g. a poll that must not replace rows under an open dialog
  document.addEventListener("htmx:beforeRequest", function (e) {
    const el = e.detail && e.detail.elt;
    if (el && el.dataset && el.dataset.skipRequestWhile && document.querySelector(el.dataset.skipRequestWhile)) {
      e.preventDefault();
    }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    const el = e.detail && e.detail.elt;
    if (!el || !el.dataset) return;
    if (el.dataset.afterRequestClear) {
      document.querySelectorAll(el.dataset.afterRequestClear).forEach(function (f) { f.value = ""; });
    }
    if (el.dataset.afterRequestDismiss) {
      const box = el.closest(el.dataset.afterRequestDismiss);
      if (box) box.remove();
    }
  });

  // A <dialog data-autoshow> the server sends (a review step) opens as a modal when it arrives;
  // a [data-close-dialog] button inside closes it.
  function autoshowDialogs() {
    document.querySelectorAll("dialog[data-autoshow]:not([open])").forEach(function (d) {
      if (d.showModal) d.showModal(); else d.setAttribute("open", "");
    });
  }
  document.addEventListener("DOMContentLoaded", autoshowDialogs);
  document.addEventListener("htmx:afterSettle", autoshowDialogs);
  document.addEventListener("click", function (e) {
    const closer = e.target.closest && e.target.closest("dialog [data-close-dialog]");
    if (closer) closer.closest("dialog").close();
  });

  let worldPromise = null;
  function worldLayer() {
    // A vendored coastline (Natural Earth 1:50m) so maps read well with no tile server.
    const url = document.body.dataset.worldUrl;
    if (!url || !window.topojson) return Promise.resolve(null);
    worldPromise = worldPromise || fetch(url).then(function (r) { return r.json(); }).then(function (topo) {
      return geopera.unwrapAntimeridian(topojson.feature(topo, topo.objects.land));
    }).catch(function () { return null; });
    return worldPromise;
  }

  /* ---------- the antimeridian ----------
   * Leaflet joins two vertices by the straight line between their longitudes, so a ring that steps
   * from 179.9 to -179.9 (Fiji in the coastline) is drawn 359.8° the long way round: a stray line
   * across the world. And an AOI split at ±180 (as RFC 7946 asks) has its two halves at the two
   * edges of the map: bounds spanning the globe, its marker in the Atlantic. For drawing only (never
   * for anything sent back), keep longitudes continuous: a ring's steps stay under 180°, and with
   * `joinParts` the parts of one shape west of -180's side move next to their eastern halves. */
  function unwrapRing(ring) {
    // A vertex exactly on ±180 belongs to the side of its neighbours (the coastline writes some of
    // Fiji's as -180 between +179.9 ones): take the sign of the nearest vertex off the line.
    const n = ring.length - 1;  // the last position repeats the first
    const side = ring.map(function (pt) { return pt.slice(); });
    for (let i = 0; i < n; i++) {
      if (Math.abs(side[i][0]) !== 180) continue;
      for (let k = 1; k < n; k++) {
        const other = ring[(i - k + n) % n][0];
        if (Math.abs(other) !== 180) { side[i][0] = other < 0 ? -180 : 180; break; }
      }
    }
    if (n > 0) side[n] = side[0].slice();
    let offset = 0;
    return side.map(function (pt, i) {
      if (i > 0) {
        const prev = side[i - 1][0], step = pt[0] - prev;
        // An edge along ±180 from one side to the other (Antarctica's, at the pole) is not a jump.
        if (Math.abs(step) > 180 && !(Math.abs(prev) === 180 && Math.abs(pt[0]) === 180)) offset += step > 0 ? -360 : 360;
      }
      return offset ? [pt[0] + offset, pt[1]] : pt;
    });
  }
  function lons(polys) {
    const all = [];
    polys.forEach(function (poly) { poly.forEach(function (ring) { ring.forEach(function (pt) { all.push(pt[0]); }); }); });
    return all;
  }
  function unwrapGeometry(geom, joinParts) {
    if (!geom) return geom;
    if (geom.type === "GeometryCollection") {
      return Object.assign({}, geom, { geometries: geom.geometries.map(function (g) { return unwrapGeometry(g, joinParts); }) });
    }
    if (geom.type !== "Polygon" && geom.type !== "MultiPolygon") return geom;
    let polys = (geom.type === "Polygon" ? [geom.coordinates] : geom.coordinates).map(function (poly) { return poly.map(unwrapRing); });
    if (joinParts && polys.length > 1) {
      const all = lons(polys);
      if (Math.max.apply(null, all) - Math.min.apply(null, all) > 180) {
        polys = polys.map(function (poly) {
          const mine = lons([poly]);
          return Math.max.apply(null, mine) <= 0 ? poly.map(function (ring) { return ring.map(function (pt) { return [pt[0] + 360, pt[1]]; }); }) : poly;
        });
      }
    }
    return { type: geom.type, coordinates: geom.type === "Polygon" ? polys[0] : polys };
  }
  geopera.unwrapAntimeridian = function (data, joinParts) {
    if (!data) return data;
    if (data.type === "FeatureCollection") return Object.assign({}, data, { features: data.features.map(function (f) { return geopera.unwrapAntimeridian(f, joinParts); }) });
    if (data.type === "Feature") return Object.assign({}, data, { geometry: unwrapGeometry(data.geometry, joinParts) });
    return unwrapGeometry(data, joinParts);
  };

  /**
   * Create a Leaflet map in `el` with the configured basemap (or none), the offline coastline
   * underneath, and a scale bar. Options are passed to L.map.
   */
  geopera.createMap = function (el, options) {
    const map = L.map(el, Object.assign({ worldCopyJump: true, minZoom: 2, zoomControl: true }, options || {}));
    map.createPane("world"); map.getPane("world").style.zIndex = 150;
    worldLayer().then(function (land) {
      if (land) L.geoJSON(land, { pane: "world", interactive: false, style: { color: "#9fb3c2", weight: 1, fillColor: "#f7f9fa", fillOpacity: 1 } }).addTo(map);
    });
    const url = document.body.dataset.basemapUrl;
    if (url) {
      L.tileLayer(url, { attribution: document.body.dataset.basemapAttribution || "", maxZoom: 19, crossOrigin: true }).addTo(map);
    }
    L.control.scale({ imperial: false }).addTo(map);
    if (!options || (!options.center && !options.bounds)) map.setView([-25, 134], 4);
    return map;
  };

  /** Text to put into HTML (Leaflet tooltips and popups render their string as HTML). */
  geopera.escape = function (text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  };

  geopera.formatCredits = function (credits) {
    return Number(credits).toLocaleString("en-AU") + " cr";
  };
  /** An area in km² as the server's |area filter writes it: "12,345.6" (digits decimals, default 1). */
  geopera.formatArea = function (km2, digits) {
    const n = Number(km2);
    if (km2 == null || !isFinite(n)) return "—";
    const d = digits == null ? 1 : digits;
    return n.toLocaleString("en-AU", { minimumFractionDigits: d, maximumFractionDigits: d });
  };
  geopera.formatAud = function (credits) {
    return "A$" + (Number(credits) / 100).toLocaleString("en-AU", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  };
})();
