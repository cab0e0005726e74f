// Master IA inbox: the composer's agent assist. No build step; CSP-safe.
//
// The AI menu's entries post the draft with htmx and show the answer in the panel under the
// message box. A suggested reply or a rewrite comes in a <template data-assist-fill>: its
// text (never HTML) goes in the box; the panel keeps the text it replaced, and "Undo" puts
// it back. Nothing is sent from here: the agent reads, edits and sends. An error leaves the
// box as it was. The panel's close button empties it. (app.js closes the menu on a click.)
(function () {
  "use strict";

  var doc = document;

  function box() { return doc.querySelector("[data-composer] textarea[name=body]"); }

  function put(text) {
    var b = box();
    if (!b) return;
    b.value = text;
    b.dispatchEvent(new Event("input", { bubbles: true })); // the SMS counter, presence
    b.focus();
    try { b.setSelectionRange(text.length, text.length); } catch (err) { /* not focusable */ }
  }

  doc.addEventListener("htmx:afterSwap", function (e) {
    var panel = e.detail.target;
    if (!panel || panel.id !== "assist-panel") return;
    var fill = panel.querySelector("template[data-assist-fill]");
    if (fill) put(fill.content.textContent);
  });

  doc.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target : null;
    if (!t) return;
    var undo = t.closest("[data-assist-undo]");
    if (undo) {
      var prev = doc.querySelector("#assist-panel [data-assist-previous]");
      if (prev) put(prev.textContent);
      var row = undo.closest(".assist-previous");
      if (row) row.hidden = true;
      return;
    }
    if (t.closest("[data-assist-close]")) {
      var panel = doc.getElementById("assist-panel");
      if (panel) panel.textContent = "";
      var b = box();
      if (b) b.focus();
    }
  });
})();
