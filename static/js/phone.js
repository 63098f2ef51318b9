/* geopera-web: narrow screens. The top navigation collapses behind a Menu button (phone.css hides
   it below 760 px); the button opens and closes it, Escape and a click outside close it. */
(function () {
  "use strict";
  function setOpen(bar, toggle, open) {
    bar.classList.toggle("nav-open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }
  document.addEventListener("DOMContentLoaded", function () {
    const toggle = document.querySelector(".nav-toggle");
    const bar = toggle && toggle.closest(".topbar");
    if (!bar) return;
    toggle.addEventListener("click", function () { setOpen(bar, toggle, !bar.classList.contains("nav-open")); });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && bar.classList.contains("nav-open")) { setOpen(bar, toggle, false); toggle.focus(); }
    });
    document.addEventListener("click", function (e) {
      if (bar.classList.contains("nav-open") && !bar.contains(e.target)) setOpen(bar, toggle, false);
    });
  });
})();

/* The archive on a phone shows one of its three panes at a time (search & results, map, cart):
   the toggle sets data-pane on #archive; the map is told its new size when it comes back. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    const archive = document.getElementById("archive");
    const toggle = archive && archive.querySelector(".pane-toggle");
    if (!toggle) return;
    const buttons = toggle.querySelectorAll("button[data-pane]");
    function show(pane) {
      archive.dataset.pane = pane;
      buttons.forEach(function (b) { b.setAttribute("aria-pressed", b.dataset.pane === pane ? "true" : "false"); });
      if (pane === "map" && window.geoperaArchive && window.geoperaArchive.map) window.geoperaArchive.map.invalidateSize();
    }
    buttons.forEach(function (b) { b.addEventListener("click", function () { show(b.dataset.pane); }); });
    // Drawing an AOI, or a cart line that focuses a capture on the map: show the map then.
    archive.addEventListener("click", function (e) {
      if (e.target.closest(".js-cart-focus, #aoi-rect, #aoi-poly")) show("map");
    });
    const count = toggle.querySelector("[data-pane-count]");
    const panel = document.getElementById("cart-panel");
    function syncCount() {
      const label = document.getElementById("cart-count");
      const n = label ? parseInt(label.textContent, 10) : 0;
      count.textContent = n > 0 ? String(n) : "";
      count.hidden = !(n > 0);
    }
    if (panel && count) { new MutationObserver(syncCount).observe(panel, { childList: true, subtree: true }); syncCount(); }
  });
})();
