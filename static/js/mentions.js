// Master IA inbox: "@" mentions in an internal note. No build step; CSP-safe.
//
// In note mode, typing "@" at the start of a word opens a small list of the org's members
// whose name (or a word of it) starts with what follows, without case or accents; arrows
// move, Enter or Tab or a click writes "@Full Name " in place of "@word", Esc closes. The
// server finds the mentions in the note's text (model.Mentions): this only helps to type.
(function () {
  "use strict";

  var doc = document;
  var popup = null, items = [], active = 0;

  function members() {
    var list = doc.querySelector("[data-mention-members]");
    if (!list) return [];
    return Array.prototype.map.call(list.querySelectorAll("[data-name]"), function (li) { return li.getAttribute("data-name"); });
  }

  function fold(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function noteMode(box) {
    var m = box.form && box.form.querySelector("input[name=mode]:checked");
    return !!m && m.value === "note";
  }

  // The "@word" (or "@two words") just before the caret, or null.
  function token(box) {
    if (!noteMode(box)) return null;
    var before = box.value.slice(0, box.selectionStart);
    var m = /(^|[\s(,;:!?"'])@([^\s@]{0,32}(?: [^\s@]{0,32})?)$/.exec(before);
    if (!m) return null;
    return { start: before.length - m[2].length - 1, end: box.selectionStart, q: m[2] };
  }

  function matches(q) {
    var f = fold(q);
    return members().filter(function (name) {
      var n = fold(name);
      return n.indexOf(f) === 0 || n.split(/\s+/).some(function (w) { return w.indexOf(f) === 0; });
    }).slice(0, 6);
  }

  function close(box) {
    if (popup) popup.remove();
    popup = null;
    items = [];
    if (box) {
      box.setAttribute("aria-expanded", "false");
      box.removeAttribute("aria-activedescendant");
    }
  }

  function highlight(box) {
    if (!popup) return;
    Array.prototype.forEach.call(popup.querySelectorAll("[role=option]"), function (o, i) {
      o.setAttribute("aria-selected", i === active ? "true" : "false");
      if (i === active) box.setAttribute("aria-activedescendant", o.id);
    });
  }

  function insert(box, name) {
    var t = token(box);
    if (!t) return close(box);
    var text = "@" + name + " ";
    box.value = box.value.slice(0, t.start) + text + box.value.slice(t.end);
    var at = t.start + text.length;
    box.setSelectionRange(at, at);
    close(box);
    box.focus();
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function show(box, list) {
    close(null);
    items = list;
    active = 0;
    if (!list.length) return;
    var cfg = doc.querySelector("[data-mention-members]");
    popup = doc.createElement("div");
    popup.className = "quick-popup";
    popup.id = "mention-popup";
    popup.setAttribute("role", "listbox");
    popup.setAttribute("aria-label", (cfg && cfg.getAttribute("data-label-title")) || "");
    popup.setAttribute("data-testid", "mention-popup");
    list.forEach(function (name, i) {
      var o = doc.createElement("div");
      o.className = "quick-option";
      o.id = "mention-option-" + i;
      o.setAttribute("role", "option");
      o.setAttribute("data-testid", "mention-option");
      var s = doc.createElement("span");
      s.className = "strong";
      s.textContent = "@" + name;
      o.appendChild(s);
      o.addEventListener("mousedown", function (e) { e.preventDefault(); insert(box, name); });
      popup.appendChild(o);
    });
    box.form.appendChild(popup);
    box.setAttribute("aria-controls", "mention-popup");
    box.setAttribute("aria-expanded", "true");
    highlight(box);
  }

  doc.addEventListener("input", function (e) {
    var box = e.target;
    if (!box.matches || !box.matches("[data-composer] textarea")) return;
    var t = token(box);
    if (!t) return close(box);
    show(box, matches(t.q));
  });

  // Capture: runs before the composer's own Enter-sends handler (inbox.js).
  doc.addEventListener("keydown", function (e) {
    var box = e.target;
    if (!popup || !box.matches || !box.matches("[data-composer] textarea")) return;
    switch (e.key) {
      case "ArrowDown":
      case "ArrowUp":
        active = (active + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
        highlight(box);
        break;
      case "Enter":
      case "Tab":
        if (e.shiftKey) { close(box); return; }
        insert(box, items[active]);
        break;
      case "Escape":
        close(box);
        break;
      default:
        return;
    }
    e.preventDefault();
    e.stopPropagation();
  }, true);

  doc.addEventListener("focusout", function (e) {
    if (e.target.matches && e.target.matches("[data-composer] textarea")) close(e.target);
  });
  // A swap that replaces the composer closes the list; a live region elsewhere (the
  // conversation list, the thread) refreshing while the member types does not.
  doc.addEventListener("htmx:beforeSwap", function (e) {
    var target = e.detail && e.detail.target;
    if (popup && (!target || target.contains(popup))) close(null);
  });
})();
