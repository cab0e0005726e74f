// Master IA page behaviour. No build step; CSP-safe (no eval, no inline
// handlers). Loaded with defer after htmx. Every feature is driven by data-*
// attributes, so templates need no script of their own.
(function () {
  "use strict";

  var doc = document;
  var root = doc.documentElement;
  var TOAST_MS = 4000;

  function meta(name) {
    var m = doc.querySelector('meta[name="' + name + '"]');
    return m ? m.getAttribute("content") : "";
  }
  function each(scope, selector, fn) {
    if (scope.matches && scope.matches(selector)) fn(scope);
    Array.prototype.forEach.call(scope.querySelectorAll(selector), fn);
  }

  // --- Theme: [data-theme-set="light|dark|system"] (theme.js applies it early)
  function markTheme() {
    each(doc, "[data-theme-set]", function (b) {
      if (b.tagName === "INPUT") return; // radios show the saved choice themselves
      b.setAttribute("aria-pressed", String(b.getAttribute("data-theme-set") === root.getAttribute("data-theme")));
    });
  }
  function setTheme(theme) {
    if (["light", "dark", "system"].indexOf(theme) < 0) return;
    root.setAttribute("data-theme", theme);
    try { localStorage.setItem("theme", theme); } catch (e) { /* storage blocked */ }
    markTheme();
  }

  // --- Toasts ---------------------------------------------------------------
  function toastBox() {
    var box = doc.getElementById("toasts");
    if (!box) {
      box = doc.createElement("div");
      box.id = "toasts";
      box.className = "toasts";
      box.setAttribute("aria-live", "polite");
      doc.body.appendChild(box);
    }
    return box;
  }
  function dismiss(el) {
    var gone = function () { if (el.parentNode) el.parentNode.removeChild(el); };
    el.classList.add("is-leaving");
    el.addEventListener("animationend", gone);
    setTimeout(gone, 400);
  }
  function arm(el) {
    if (el.hasAttribute("data-toast-armed")) return;
    el.setAttribute("data-toast-armed", "");
    if (!el.querySelector(".toast-close")) {
      var close = doc.createElement("button");
      close.type = "button";
      close.className = "toast-close";
      close.setAttribute("aria-label", toastBox().getAttribute("data-close-label") || "Close");
      close.textContent = "\u00d7";
      el.appendChild(close);
    }
    var timer;
    var start = function () { timer = setTimeout(function () { dismiss(el); }, TOAST_MS); };
    var stop = function () { clearTimeout(timer); };
    ["mouseenter", "focusin"].forEach(function (n) { el.addEventListener(n, stop); });
    ["mouseleave", "focusout"].forEach(function (n) { el.addEventListener(n, start); });
    start();
  }
  function toast(message, kind) {
    if (!message) return;
    if (["success", "error", "info"].indexOf(kind) < 0) kind = "info";
    var el = doc.createElement("div");
    el.className = "toast toast-" + kind;
    el.setAttribute("role", kind === "error" ? "alert" : "status");
    var text = doc.createElement("div");
    text.className = "toast-message";
    text.textContent = message;
    el.appendChild(text);
    toastBox().appendChild(el);
    arm(el);
  }
  window.masteria = { toast: toast };

  // Server: HX-Trigger: {"toast": {"message": "Saved", "kind": "success"}}
  doc.body.addEventListener("toast", function (e) {
    var d = e.detail || {};
    toast(d.message || d.value, d.kind);
  });

  // --- htmx -----------------------------------------------------------------
  if (window.htmx) {
    var cfg = window.htmx.config;
    cfg.includeIndicatorStyles = false; // CSP: the indicator styles are in app.css
    cfg.allowEval = false;
    cfg.historyRestoreAsHxRequest = false; // history restore gets the full page
    var rules = cfg.responseHandling;
    if (!rules.some(function (r) { return r.code === "422"; })) {
      var at = rules.findIndex(function (r) { return r.error; });
      rules.splice(at < 0 ? rules.length : at, 0, { code: "422", swap: true });
    }
  }
  doc.addEventListener("htmx:configRequest", function (e) {
    var token = meta("csrf-token");
    if (token) e.detail.headers["X-CSRF-Token"] = token;
  });
  doc.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    // Skip when the server sent its own toast with the error.
    if (/\btoast\b/.test((xhr && xhr.getResponseHeader("HX-Trigger")) || "")) return;
    toast(meta("i18n-error") || "Something went wrong.", "error");
  });
  doc.addEventListener("htmx:sendError", function () {
    toast(meta("i18n-offline") || meta("i18n-error") || "Something went wrong.", "error");
  });

  // --- Sidebar drawer (phones) ------------------------------------------------
  function sidebar(open) {
    var app = doc.querySelector(".app");
    if (!app) return;
    if (open === undefined) open = !app.classList.contains("is-sidebar-open");
    app.classList.toggle("is-sidebar-open", open);
    each(doc, "[data-sidebar-toggle][aria-expanded]", function (b) { b.setAttribute("aria-expanded", String(open)); });
    var first = open && app.querySelector(".sidebar a, .sidebar button");
    if (first) first.focus();
  }

  // --- Copy -----------------------------------------------------------------
  function copy(btn) {
    var el = doc.querySelector(btn.getAttribute("data-copy-target"));
    if (!el) return;
    var text = (el.matches("input, textarea, select") ? el.value : el.textContent).trim();
    var done = function () { toast(btn.getAttribute("data-copied-text") || "Copied", "success"); };
    var fallback = function () {
      var area = doc.createElement("textarea");
      area.value = text;
      area.className = "visually-hidden";
      doc.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = doc.execCommand("copy"); } finally { doc.body.removeChild(area); }
      if (ok) return done();
      // Copying is refused: select the text so the user can copy it by hand.
      if (el.select) el.select(); else window.getSelection().selectAllChildren(el);
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  }

  // --- Install app (PWA) ----------------------------------------------------
  var installPrompt = null;
  function showInstall(show) {
    each(doc, "[data-install-app]", function (b) { b.hidden = !show; });
  }
  window.addEventListener("beforeinstallprompt", function (e) {
    e.preventDefault();
    installPrompt = e;
    showInstall(true);
  });
  window.addEventListener("appinstalled", function () { installPrompt = null; showInstall(false); });

  // --- Clicks: one delegated listener, in the capture phase so a refused
  // confirm stops htmx too ---------------------------------------------------
  doc.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target : e.target.parentElement;
    var el;
    if (!t) return;
    if ((el = t.closest("a[data-confirm]")) && !window.confirm(el.getAttribute("data-confirm"))) {
      e.preventDefault();
      e.stopImmediatePropagation();
      return;
    }
    if ((el = t.closest("[data-theme-set]"))) setTheme(el.getAttribute("data-theme-set"));
    if ((el = t.closest("[data-copy-target]"))) { e.preventDefault(); copy(el); }
    if ((el = t.closest("[data-sidebar-toggle]"))) { e.preventDefault(); sidebar(); }
    else if (t.closest(".sidebar a")) sidebar(false);
    if ((el = t.closest("[data-dialog-open]"))) {
      var dlg = doc.querySelector(el.getAttribute("data-dialog-open"));
      if (dlg && !dlg.open) { e.preventDefault(); dlg.showModal(); }
    }
    if ((el = t.closest("[data-dialog-close]")) && el.closest("dialog")) { e.preventDefault(); el.closest("dialog").close(); }
    if (t.tagName === "DIALOG" && t.open) t.close(); // a click on the backdrop
    if ((el = t.closest(".toast-close"))) dismiss(el.closest(".toast"));
    if (t.closest("[data-install-app]") && installPrompt) {
      installPrompt.prompt();
      installPrompt.userChoice.then(function () { installPrompt = null; showInstall(false); });
    }
    // Close open dropdowns on a click outside them or on one of their items.
    each(doc, "details.dropdown[open]", function (d) {
      if (!d.contains(t) || (t.closest(".dropdown-item") && d.contains(t.closest(".dropdown-item")))) d.open = false;
    });
  }, true);

  doc.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    each(doc, "details.dropdown[open]", function (d) {
      d.open = false;
      d.querySelector("summary").focus();
    });
    if (doc.querySelector(".app.is-sidebar-open")) sidebar(false);
  });

  // Native confirm for <form data-confirm> and for submit buttons carrying it.
  doc.addEventListener("submit", function (e) {
    var text = (e.submitter && e.submitter.getAttribute("data-confirm")) || e.target.getAttribute("data-confirm");
    if (text && !window.confirm(text)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  // --- Select all: a checkbox with data-check-all="name" ticks every box of that name in its form
  doc.addEventListener("change", function (e) {
    var t = e.target, name = t.getAttribute && t.getAttribute("data-check-all");
    if (name) each(t.form || doc, 'input[type=checkbox][name="' + name + '"]', function (c) { c.checked = t.checked; });
  });

  // --- Strips that scroll sideways (settings tabs) -------------------------------
  // A strip wider than the screen fades at the side where more is hidden (has-more-start,
  // has-more-end), so cut-off tabs do not look like the last ones.
  function scrollHints(el) {
    if (el.hasAttribute("data-scroll-hints")) return;
    el.setAttribute("data-scroll-hints", "");
    var update = function () {
      var max = el.scrollWidth - el.clientWidth;
      el.classList.toggle("has-more-start", el.scrollLeft > 1);
      el.classList.toggle("has-more-end", max - el.scrollLeft > 1);
    };
    el.addEventListener("scroll", update, { passive: true });
    if (window.ResizeObserver) new ResizeObserver(update).observe(el);
    window.addEventListener("resize", update);
    update();
  }

  // --- New content: the page itself, then every htmx swap -------------------
  function init(scope) {
    each(scope, "[data-toast]", arm);
    each(scope, "dialog[data-dialog-autoopen]", function (d) { if (!d.open) d.showModal(); });
    if (installPrompt) showInstall(true);
    markTheme();
    // On a phone the tab strip scrolls sideways: bring the open tab into view.
    each(scope, ".tabs [aria-current=page]", function (t) { t.scrollIntoView({ block: "nearest", inline: "center" }); });
    each(scope, ".tabs", scrollHints);
  }
  doc.addEventListener("htmx:load", function (e) { init(e.target); });
  init(doc.body);

  // --- Service worker -------------------------------------------------------
  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js").catch(function () { /* the app works without it */ });
    });
  }
})();
