/* Polled fragments marked `data-poll-pause-hidden` (the bell) ask nothing while the tab is hidden,
   and refresh once as soon as it is shown again (their hx-trigger lists `poll-resume`). */
(function () {
  "use strict";
  document.addEventListener("htmx:beforeRequest", function (evt) {
    const elt = evt.detail && evt.detail.elt;
    if (document.hidden && elt && elt.hasAttribute && elt.hasAttribute("data-poll-pause-hidden")) {
      evt.preventDefault();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) return;
    document.querySelectorAll("[data-poll-pause-hidden]").forEach(function (elt) {
      window.htmx.trigger(elt, "poll-resume");
    });
  });
})();
