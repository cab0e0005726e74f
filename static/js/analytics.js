// Master IA dashboard: picking a date in the filter bar means "these dates", so the period
// select turns to "Custom dates" before the form is sent (a preset would win over the
// dates). No build step; CSP-safe; listens once on the document, so a dashboard swapped in
// again by htmx needs nothing more.
(function () {
  "use strict";
  if (window.masteriaDashDates) return;
  window.masteriaDashDates = true;
  // Capture: runs before htmx sends the form on the same change.
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (!t || !t.matches || !t.matches("[data-dash-date]") || !t.form) return;
    var sel = t.form.querySelector("[data-dash-period]");
    if (sel) sel.value = "custom";
  }, true);
})();
