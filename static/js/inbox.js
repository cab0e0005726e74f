// Master IA inbox. No build step; CSP-safe. Loaded (with defer, after htmx, the SSE
// extension and app.js) by the inbox page.
//
// - The composer: Enter sends (or adds the note, in note mode), Shift+Enter is a new line;
//   a stored message clears the box; the mode switch changes the placeholder.
// - The thread stays scrolled to the newest message when it reloads live, unless the reader
//   scrolled up to read older ones; older pages load as the top comes into view, and what is
//   on screen stays put.
// - On narrow screens the contact pane opens as a side sheet (details button, Esc closes).
// - Times of messages are shown in the reader's time zone.
// - The page title carries the unread count the list renders: "(3) Inbox · Master IA".
// - A short tone plays when a customer writes in a conversation the member may see while the
//   tab is hidden or another conversation is open; the bell button mutes it (kept in
//   localStorage).
(function () {
  "use strict";

  var doc = document;
  var baseTitle = doc.title.replace(/^\(\d+\)\s+/, "");
  var stickTo = null; // distance from the bottom of the thread before a swap

  function thread() { return doc.getElementById("inbox-thread"); }
  function composer() { return doc.querySelector("[data-composer]"); }

  function toBottom(el, gap) {
    if (el) el.scrollTop = el.scrollHeight - el.clientHeight - (gap || 0);
  }

  function localTimes(scope) {
    Array.prototype.forEach.call(scope.querySelectorAll("time[data-local-time]"), function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) t.textContent = d.toLocaleTimeString(doc.documentElement.lang || [], { hour: "2-digit", minute: "2-digit" });
      t.removeAttribute("data-local-time");
    });
  }

  var unread = -1;      // the unread total last rendered
  var unreadEl = null;  // the element it was read from: a new one means the list reloaded
  var pendingTone = ""; // the conversation a customer just wrote in, until the list reloads

  function title() {
    var el = doc.querySelector("[data-inbox-unread]");
    if (!el) return;
    var n = parseInt(el.getAttribute("data-inbox-unread"), 10) || 0;
    doc.title = (n > 0 ? "(" + n + ") " : "") + baseTitle;
    // The list counts only what the member may see: more unread after a customer's
    // message means it was one of theirs (or it is the one open).
    if (pendingTone && el !== unreadEl) { // the list itself reloaded
      var open = (doc.getElementById("inbox") || doc.body).getAttribute("data-open-id") || "";
      if ((doc.hidden || open !== pendingTone) && (n > unread || open === pendingTone)) tone();
      pendingTone = "";
    }
    unread = n;
    unreadEl = el;
  }

  function mode(form) {
    var checked = form.querySelector('input[name="mode"]:checked');
    return checked ? checked.value : "reply";
  }

  function placeholder(form) {
    var box = form.querySelector("textarea[name=body]");
    if (box) box.placeholder = box.getAttribute(mode(form) === "note" ? "data-placeholder-note" : "data-placeholder-reply") || "";
  }

  var MUTE_KEY = "masteria.inbox.muted";
  function muted() {
    try { return localStorage.getItem(MUTE_KEY) === "1"; } catch (err) { return false; }
  }
  function muteButton() {
    var b = doc.querySelector("[data-inbox-mute]");
    if (!b) return;
    var m = muted();
    b.setAttribute("aria-pressed", m ? "true" : "false");
    b.title = b.getAttribute(m ? "data-label-unmute" : "data-label-mute") || "";
    var sr = b.querySelector(".sr-only");
    if (sr) sr.textContent = b.title;
  }
  doc.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-inbox-mute]");
    if (!b) return;
    try { localStorage.setItem(MUTE_KEY, muted() ? "0" : "1"); } catch (err) { /* private mode */ }
    muteButton();
  });

  function setup(scope) {
    localTimes(scope);
    title();
    muteButton();
    var form = composer();
    if (form) placeholder(form);
  }

  doc.addEventListener("keydown", function (e) {
    var box = e.target;
    if (!box.matches || !box.matches("[data-composer] textarea") || e.key !== "Enter" || e.shiftKey || e.isComposing) return;
    e.preventDefault();
    var form = box.form;
    if (!box.value.trim()) return;
    var btn = form.querySelector(mode(form) === "note" ? ".composer-note" : ".composer-send");
    if (btn) btn.click();
  });

  doc.addEventListener("change", function (e) {
    var form = e.target.closest && e.target.closest("[data-composer]");
    if (form && e.target.name === "mode") {
      placeholder(form);
      var box = form.querySelector("textarea[name=body]");
      if (box) box.focus();
    }
  });

  doc.addEventListener("htmx:afterRequest", function (e) {
    var elt = e.detail.elt;
    var form = elt && elt.closest && elt.closest("[data-composer]");
    // The AI menu's answers fill the box instead (assist.js).
    if (!form || !e.detail.successful || elt.closest("[data-assist-action]")) return;
    var box = form.querySelector("textarea[name=body]");
    if (box) { box.value = ""; box.focus(); }
    // The attachment went with this message: drop it, or the next text would send it again.
    Array.prototype.forEach.call(form.querySelectorAll("[data-composer-file]"), function (f) { f.value = ""; });
    Array.prototype.forEach.call(form.querySelectorAll("[data-composer-file-name]"), function (n) { n.textContent = ""; n.hidden = true; });
    Array.prototype.forEach.call(form.querySelectorAll('[data-testid="composer-error"]'), function (n) { n.remove(); });
    toBottom(thread());
  });

  // On narrow screens the contact pane (labels, leads) opens as a side sheet from the head's
  // details button; the close button, Esc or the button again closes it.
  function details(open) {
    var inbox = doc.getElementById("inbox");
    if (!inbox) return;
    inbox.classList.toggle("show-details", open);
    var btn = doc.querySelector("[data-inbox-details]");
    if (btn) btn.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      var close = doc.querySelector("[data-inbox-details-close]");
      if (close) close.focus();
    }
  }
  doc.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target : null;
    if (!t) return;
    if (t.closest("[data-inbox-details]")) {
      var inbox = doc.getElementById("inbox");
      details(!(inbox && inbox.classList.contains("show-details")));
    } else if (t.closest("[data-inbox-details-close]")) {
      details(false);
      var btn = doc.querySelector("[data-inbox-details]");
      if (btn) btn.focus();
    }
  });
  doc.addEventListener("keydown", function (e) {
    var inbox = doc.getElementById("inbox");
    if (e.key === "Escape" && inbox && inbox.classList.contains("show-details")) details(false);
  });

  doc.addEventListener("htmx:beforeSwap", function (e) {
    var t = thread();
    if (!t) return;
    var gap = t.scrollHeight - t.clientHeight - t.scrollTop;
    if (e.detail.target === t) {
      stickTo = gap < 120 ? 0 : gap;
    } else if (e.detail.target.classList && e.detail.target.classList.contains("thread-older") && t.contains(e.detail.target)) {
      // Older messages go in above: the ones being read stay where they are on screen.
      stickTo = gap;
    }
  });

  doc.addEventListener("htmx:afterSettle", function (e) {
    var target = e.detail.target;
    setup(doc);
    if (stickTo !== null) {
      toBottom(thread(), stickTo);
      stickTo = null;
    } else if (target && (target.id === "inbox" || target.id === "thread-messages")) {
      toBottom(thread());
    }
  });

  // A tone when a customer writes and nobody is looking at the tab.
  var audio = null;
  function tone() {
    if (muted()) return;
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      audio = audio || new Ctx();
      var o = audio.createOscillator();
      var g = audio.createGain();
      o.frequency.value = 880;
      g.gain.setValueAtTime(0.08, audio.currentTime);
      g.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
      o.connect(g);
      g.connect(audio.destination);
      o.start();
      o.stop(audio.currentTime + 0.25);
    } catch (err) { /* audio blocked */ }
  }
  doc.addEventListener("sse:message.received", function (e) {
    if (!e.target || e.target.id !== "inbox-list") return;
    try {
      var ev = JSON.parse(e.detail.data);
      pendingTone = String(ev.payload.conversation_id);
    } catch (err) { /* not ours to read */ }
  });

  setup(doc);
  toBottom(thread());
})();
