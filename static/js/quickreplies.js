// Master IA inbox: quick replies in the composer. No build step; CSP-safe.
//
// Typing "/" at the start of a word opens a small list of the org's quick replies whose
// shortcut (or title) starts with what follows; arrows move, Enter or Tab or a click
// inserts the reply in place of "/word", Esc closes. The list comes from
// GET …/inbox/{id}/quick-replies?q=, with the contact's first name already in place.
(function () {
  "use strict";

  var doc = document;
  var popup = null, items = [], active = 0, seq = 0, timer = null;

  function config() { return doc.querySelector("[data-quick-replies]"); }

  // The "/word" just before the caret, or null.
  function token(box) {
    var before = box.value.slice(0, box.selectionStart);
    var m = /(^|\s)\/([^\s\/]{0,32})$/.exec(before);
    if (!m) return null;
    return { start: before.length - m[2].length - 1, end: box.selectionStart, q: m[2] };
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
      if (i === active) {
        box.setAttribute("aria-activedescendant", o.id);
        o.scrollIntoView({ block: "nearest" });
      }
    });
  }

  function insert(box, q) {
    var t = token(box);
    if (!t) return close(box);
    box.value = box.value.slice(0, t.start) + q.body + box.value.slice(t.end);
    var at = t.start + q.body.length;
    box.setSelectionRange(at, at);
    close(box);
    box.focus();
    box.dispatchEvent(new Event("input", { bubbles: true })); // the SMS counter, presence
  }

  function show(box, list) {
    close(null);
    var cfg = config();
    items = list;
    active = 0;
    popup = doc.createElement("div");
    popup.className = "quick-popup";
    popup.id = "quick-popup";
    popup.setAttribute("role", "listbox");
    popup.setAttribute("aria-label", cfg.getAttribute("data-label-title") || "");
    popup.setAttribute("data-testid", "quick-popup");
    if (!list.length) {
      var none = doc.createElement("div");
      none.className = "quick-empty muted small";
      none.textContent = cfg.getAttribute("data-label-empty") || "";
      popup.appendChild(none);
    }
    list.forEach(function (q, i) {
      var o = doc.createElement("div");
      o.className = "quick-option";
      o.id = "quick-option-" + i;
      o.setAttribute("role", "option");
      var head = doc.createElement("div");
      var code = doc.createElement("code");
      code.textContent = "/" + q.shortcut;
      var title = doc.createElement("span");
      title.className = "strong";
      title.textContent = " " + q.title;
      head.appendChild(code);
      head.appendChild(title);
      var body = doc.createElement("div");
      body.className = "quick-body muted xsmall truncate";
      body.textContent = q.body;
      o.appendChild(head);
      o.appendChild(body);
      o.addEventListener("mousedown", function (e) { e.preventDefault(); insert(box, q); });
      o.addEventListener("mousemove", function () { if (active !== i) { active = i; highlight(box); } });
      popup.appendChild(o);
    });
    box.form.appendChild(popup);
    box.setAttribute("aria-controls", "quick-popup");
    box.setAttribute("aria-expanded", "true");
    highlight(box);
  }

  function lookup(box) {
    var cfg = config(), t = token(box);
    if (!cfg || !t) return close(box);
    var mine = ++seq;
    fetch(cfg.getAttribute("data-quick-replies") + "?q=" + encodeURIComponent(t.q), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { quick_replies: [] }; })
      .then(function (j) {
        if (mine !== seq || !token(box)) return; // typed on meanwhile
        show(box, j.quick_replies || []);
      })
      .catch(function () { close(box); });
  }

  doc.addEventListener("input", function (e) {
    var box = e.target;
    if (!box.matches || !box.matches("[data-composer] textarea")) return;
    clearTimeout(timer);
    if (!token(box)) return close(box);
    timer = setTimeout(function () { lookup(box); }, 120);
  });

  // Capture: runs before the composer's own Enter-sends handler (inbox.js).
  doc.addEventListener("keydown", function (e) {
    var box = e.target;
    if (!popup || !box.matches || !box.matches("[data-composer] textarea")) return;
    switch (e.key) {
      case "ArrowDown":
      case "ArrowUp":
        if (!items.length) return;
        active = (active + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
        highlight(box);
        break;
      case "Enter":
      case "Tab":
        if (!items.length || e.shiftKey) { close(box); return; }
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
  doc.addEventListener("htmx:beforeSwap", function () { close(null); });
})();
