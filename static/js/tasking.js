/* Tasking configuration pages: toasts swapped in by htmx (e.g. "Deleted — Undo") close by themselves;
   the request form shows its recurrence fields only for a repeating capture frequency. */
(function () {
  "use strict";
  function arm(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("[data-autoclose]").forEach(function (el) {
      if (el.dataset.armed) return;
      el.dataset.armed = "1";
      setTimeout(function () { el.remove(); }, Number(el.dataset.autoclose) || 8000);
    });
  }

  // The request form's recurrence fields (tasking.schemas: occurrences, recurUntil, rollRemainder)
  // only mean something for a repeating capture frequency: while it is "Once" they are hidden and
  // left out of the request (disabled). Only what this hid is enabled again (a viewer's form stays
  // read-only).
  const RECURRENCE = ["occurrences", "recurUntil", "rollRemainder"];
  function syncRecurrence() {
    document.querySelectorAll("#tasking-params").forEach(function (params) {
      const freq = params.querySelector("[name=captureFrequency]");
      if (!freq) return;
      const once = freq.value === "ONCE";
      RECURRENCE.forEach(function (name) {
        const field = params.querySelector('[data-param="' + name + '"]');
        if (!field) return;
        field.hidden = once;
        field.querySelectorAll("input, select, textarea").forEach(function (el) {
          if (once && !el.disabled) { el.disabled = true; el.dataset.recurrenceOff = "1"; }
          else if (!once && el.dataset.recurrenceOff) { el.disabled = false; delete el.dataset.recurrenceOff; }
        });
      });
    });
  }
  document.addEventListener("change", function (e) { if (e.target && e.target.name === "captureFrequency") syncRecurrence(); });

  document.addEventListener("htmx:oobAfterSwap", function (e) { arm(document.getElementById("toasts") || document); });
  document.addEventListener("htmx:afterSettle", function () { arm(document.getElementById("toasts") || document); syncRecurrence(); });
  document.addEventListener("DOMContentLoaded", function () { arm(document); syncRecurrence(); });
})();
