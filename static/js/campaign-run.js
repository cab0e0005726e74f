// Master IA campaign run page: follow one campaign live. No build step; CSP-safe.
//
// The [data-campaign-events] element receives the campaign events of the org over SSE
// (sse-swap; the swap itself is cancelled here). An event of this campaign asks the live
// part (#campaign-live) and the recipient table (#campaign-recipients) again, at most once
// a second, and always once after the last event of a burst, so the figures end true.
(function () {
  "use strict";

  var doc = document;
  var EVERY_MS = 1000;
  var last = 0, timer = null;

  function refresh() {
    timer = null;
    last = Date.now();
    if (!window.htmx) return;
    var live = doc.getElementById("campaign-live");
    if (live) window.htmx.trigger(live, "campaign:refresh");
    var rec = doc.getElementById("campaign-recipients");
    var url = rec && rec.getAttribute("data-refresh-url");
    if (!url) return;
    // As many rows as the table shows, so a table grown by "Show more" keeps its length.
    var shown = rec.querySelectorAll("[data-recipient]").length;
    var limit = Math.min(500, Math.max(50, Math.ceil(shown / 50) * 50));
    window.htmx.ajax("GET", url + (url.indexOf("?") < 0 ? "?" : "&") + "limit=" + limit,
      { target: "#campaign-recipients", swap: "outerHTML" });
  }

  doc.addEventListener("htmx:sseBeforeMessage", function (e) {
    var p = e.target;
    if (!p || !p.matches || !p.matches("[data-campaign-events]")) return;
    e.preventDefault(); // the data is JSON, not HTML to swap in
    var ev;
    try { ev = JSON.parse(e.detail.data); } catch (err) { return; }
    var d = (ev && ev.payload) || {};
    if (String(d.campaign_id) !== p.getAttribute("data-campaign-id")) return;
    if (timer) return; // a refresh is already coming
    timer = setTimeout(refresh, Math.max(0, last + EVERY_MS - Date.now()));
  });

})();
