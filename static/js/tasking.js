/* Tasking configuration pages: toasts swapped in by htmx (e.g. "Deleted — Undo") close by themselves. */
(function () {
  "use strict";
  function arm(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("[data-autoclose]").forEach(function (el) {
      if (el.dataset.armed) return;
      el.dataset.armed = "1";
      setTimeout(function () { el.remove(); }, Number(el.dataset.autoclose) || 8000);
    });
  }
  document.addEventListener("htmx:oobAfterSwap", function (e) { arm(document.getElementById("toasts") || document); });
  document.addEventListener("htmx:afterSettle", function () { arm(document.getElementById("toasts") || document); });
  document.addEventListener("DOMContentLoaded", function () { arm(document); });
})();
