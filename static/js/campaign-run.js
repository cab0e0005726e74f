// Master IA campaign run page: follow one campaign live. No build step; CSP-safe.
//
// The [data-campaign-events] element receives the campaign events of the org over SSE
// (sse-swap; the swap itself is cancelled here). For an event of this campaign:
//   - a change of status (started, paused, completed, cancelled) asks the whole live part
//     (#campaign-live: status, reason, buttons and figures) again;
//   - recipients moving (campaign.progress, campaign.recipient.status) ask the figures
//     (#campaign-figures) and the recipient table (#campaign-recipients) again.
// At most once a second, and always once after the last event of a burst, so the figures
// end true. While a pointer is down on the page nothing is swapped, so a click on a button
// or a link that is about to be redrawn is never lost.
(function () {
  "use strict";

  var doc = document;
  var EVERY_MS = 1000;
  var last = 0, timer = null, held = false;
  var want = { live: false, figures: false };

  function run() {
    timer = null;
    if (held) return; // the release schedules it again
    last = Date.now();
    var h = window.htmx;
    if (!h) return;
    var live = doc.getElementById("campaign-live");
    var figures = doc.getElementById("campaign-figures");
    if (want.live && live) h.trigger(live, "campaign:refresh");
    else if (want.figures && figures) h.trigger(figures, "campaign:figures");
    want.live = want.figures = false;
    var rec = doc.getElementById("campaign-recipients");
    var url = rec && rec.getAttribute("data-refresh-url");
    if (!url) return;
    // As many rows as the table shows, so a table grown by "Show more" keeps its length.
    var shown = rec.querySelectorAll("[data-recipient]").length;
    var limit = Math.min(500, Math.max(50, Math.ceil(shown / 50) * 50));
    h.ajax("GET", url + (url.indexOf("?") < 0 ? "?" : "&") + "limit=" + limit,
      { target: "#campaign-recipients", swap: "outerHTML" });
  }

  function schedule() {
    if (timer || !(want.live || want.figures)) return;
    timer = setTimeout(run, Math.max(0, last + EVERY_MS - Date.now()));
  }

  doc.addEventListener("htmx:sseBeforeMessage", function (e) {
    var p = e.target;
    if (!p || !p.matches || !p.matches("[data-campaign-events]")) return;
    e.preventDefault(); // the data is JSON, not HTML to swap in
    var ev;
    try { ev = JSON.parse(e.detail.data); } catch (err) { return; }
    var d = (ev && ev.payload) || {};
    if (String(d.campaign_id) !== p.getAttribute("data-campaign-id")) return;
    if (ev.type === "campaign.progress" || ev.type === "campaign.recipient.status") want.figures = true;
    else want.live = true;
    schedule();
  });

  doc.addEventListener("pointerdown", function () { held = true; }, true);
  function release() {
    setTimeout(function () {
      held = false;
      if (!timer) schedule();
    }, 300);
  }
  doc.addEventListener("pointerup", release, true);
  doc.addEventListener("pointercancel", release, true);
})();
