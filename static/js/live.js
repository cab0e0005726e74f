// Master IA live regions that many events move: at most one refresh every few seconds,
// and never none after the last event. No build step; CSP-safe.
//
// A hidden [data-live-for] element holds the events (hx-trigger="sse:…", so the SSE
// extension fires them on it). Each one asks the region named by data-live-for to refresh
// ("live:refresh", in the region's hx-trigger) at most once every data-live-every ms, and
// always once after the last event of a burst, so the region ends true. htmx's own
// modifiers cannot say that: throttle: drops the events of its window (the last change would
// stay unseen) and delay: waits for a quiet moment that a busy org never has.
// While a pointer is down nothing is asked, so a tap on a link about to be redrawn is kept.
(function () {
  "use strict";
  if (window.masteriaLive) return; // loaded again by a page swapped in
  window.masteriaLive = true;

  var doc = document;
  var state = new WeakMap(); // [data-live-for] element → {last, timer, want}
  var held = false;

  function stateOf(src) {
    var st = state.get(src);
    if (!st) {
      st = { last: 0, timer: null, want: false };
      state.set(src, st);
    }
    return st;
  }

  function every(src) {
    var ms = parseInt(src.getAttribute("data-live-every"), 10);
    return ms > 0 ? ms : 2000;
  }

  function run(src, st) {
    st.timer = null;
    if (held || !st.want) return; // the release schedules it again
    var region = doc.getElementById(src.getAttribute("data-live-for"));
    if (!region || !window.htmx) return;
    st.want = false;
    st.last = Date.now();
    window.htmx.trigger(region, "live:refresh");
  }

  function schedule(src) {
    var st = stateOf(src);
    if (st.timer || !st.want) return;
    st.timer = setTimeout(function () { run(src, st); }, Math.max(0, st.last + every(src) - Date.now()));
  }

  doc.addEventListener("htmx:sseMessage", function (e) {
    var src = e.target;
    if (!src || !src.matches || !src.matches("[data-live-for]")) return;
    stateOf(src).want = true;
    schedule(src);
  });

  doc.addEventListener("pointerdown", function () { held = true; }, true);
  function release() {
    setTimeout(function () {
      held = false;
      doc.querySelectorAll("[data-live-for]").forEach(schedule);
    }, 300);
  }
  doc.addEventListener("pointerup", release, true);
  doc.addEventListener("pointercancel", release, true);
})();
