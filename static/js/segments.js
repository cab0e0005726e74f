// SMS length counter. No build step; CSP-safe (no inline code). For every
// <textarea data-sms-counter="#target"> it writes into the target, as the user types,
// "{chars} characters · {n} SMS (GSM-7|Unicode)", counted like app/channel/twilio/segments.go:
// GSM-7 when every character is in the GSM 03.38 alphabet (€ ^ { } [ ] ~ | \ and form feed
// count two), 160 in one SMS or 153 per part; otherwise UCS-2 in UTF-16 units (emoji count
// two), 70 or 67 per part; a two-unit character never splits across parts.
// Labels come from the target, translated by the server:
//   data-label-chars="{n} characters" data-label-chars-one="{n} character"
//   data-label-parts="{n} SMS" data-label-gsm="GSM-7" data-label-ucs2="Unicode"
(function () {
  "use strict";

  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXT = "\f^{}\\[~]|€";

  function parts(units, single, multi) {
    var total = units.reduce(function (a, b) { return a + b; }, 0);
    if (total === 0) return 0;
    if (total <= single) return 1;
    var n = 1, used = 0;
    units.forEach(function (u) {
      if (used + u > multi) { n++; used = 0; }
      used += u;
    });
    return n;
  }

  // segments returns {chars, count, gsm} for a text.
  function segments(text) {
    var chars = Array.from(text), gsm = [], ucs = [], isGSM = true;
    chars.forEach(function (c) {
      ucs.push(c.codePointAt(0) > 0xffff ? 2 : 1);
      if (!isGSM) return;
      if (BASIC.indexOf(c) >= 0) gsm.push(1);
      else if (EXT.indexOf(c) >= 0) gsm.push(2);
      else isGSM = false;
    });
    return { chars: chars.length, gsm: isGSM,
      count: isGSM ? parts(gsm, 160, 153) : parts(ucs, 70, 67) };
  }

  function label(el, name, n, fallback) {
    var s = (n === 1 && el.getAttribute("data-label-" + name + "-one")) ||
      el.getAttribute("data-label-" + name) || fallback;
    return s.replace("{n}", String(n));
  }

  function update(area) {
    var target = document.querySelector(area.getAttribute("data-sms-counter"));
    if (!target) return;
    var s = segments(area.value);
    target.textContent = label(target, "chars", s.chars, "{n} characters") + " · " +
      label(target, "parts", s.count, "{n} SMS") + " (" +
      (s.gsm ? label(target, "gsm", 0, "GSM-7") : label(target, "ucs2", 0, "Unicode")) + ")";
  }

  function updateAll() {
    Array.prototype.forEach.call(document.querySelectorAll("textarea[data-sms-counter]"), update);
  }

  document.addEventListener("input", function (e) {
    if (e.target.matches && e.target.matches("textarea[data-sms-counter]")) update(e.target);
  });
  // New composers swapped in by HTMX, and boxes cleared by script after a send or reset.
  ["htmx:load", "htmx:afterRequest", "reset"].forEach(function (ev) {
    document.addEventListener(ev, function () { setTimeout(updateAll, 0); });
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", updateAll);
  else updateAll();

  window.MasterIASegments = segments; // for tests
})();
