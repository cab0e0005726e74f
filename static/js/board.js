// Master IA Kanban board. No build step; CSP-safe. Loaded (with defer, after htmx, the
// SSE extension, app.js and SortableJS) by the board page and the pipeline settings page.
//
// - Cards drag between and within columns (SortableJS with forceFallback, so pointer and
//   mouse events drive it). A drop POSTs /board/leads/{id}/move with the stage and the
//   cards now around it (after_id above, before_id below); the server answers the moved
//   card, which replaces the dragged one. A refused move puts the card back.
// - The card menus ([data-move-form]) post the same way; without JavaScript they are plain
//   forms that come back to the board. So do a card's answers to the AI (accept or dismiss
//   its suggestion, undo its move), which get the card back as it now is.
// - Live: the page body holds the org's SSE stream (hx-ext="sse"). The hidden
//   [data-board-live] element has hx-trigger="sse:lead.moved, …", so the extension fires
//   "sse:lead.moved" (detail: the MessageEvent) on it for each event. A moved card moves
//   at once to its column and place (cards are ordered by data-rank), then the card and
//   the column totals are fetched again, as the board's filters show them.
// - The lead drawer (<dialog>) opens when htmx has loaded a lead into it; a saved,
//   created or deleted lead (HX-Trigger leadSaved / leadCreated / leadDeleted) closes it.
(function () {
  "use strict";

  var doc = document;

  function meta(name) {
    var m = doc.querySelector('meta[name="' + name + '"]');
    return m ? m.getAttribute("content") : "";
  }
  function toast(message, kind) {
    if (window.masteria && window.masteria.toast) window.masteria.toast(message, kind);
  }
  // toastFrom shows the toast a response carries in HX-Trigger; false when it has none.
  function toastFrom(res) {
    var h = res && res.headers && res.headers.get("HX-Trigger");
    if (!h) return false;
    try {
      var t = JSON.parse(h).toast;
      if (t && t.message) { toast(t.message, t.kind); return true; }
    } catch (e) { /* not JSON */ }
    return false;
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-CSRF-Token": meta("csrf-token"),
        "HX-Request": "true"
      },
      body: body.toString()
    }).then(function (res) {
      if (!res.ok && res.status !== 204) {
        var err = new Error("HTTP " + res.status);
        err.response = res;
        throw err;
      }
      return res.text().then(function (text) { return { res: res, text: text }; });
    });
  }
  function fragment(html) {
    var t = doc.createElement("template");
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }

  // --- Pipeline picker: opens the chosen pipeline at once ----------------------
  Array.prototype.forEach.call(doc.querySelectorAll("select[data-autosubmit]"), function (sel) {
    var form = sel.form;
    var btn = form && form.querySelector("[data-autosubmit-button]");
    if (btn) btn.hidden = true;
    sel.addEventListener("change", function () { if (form) form.submit(); });
  });

  // --- Stage order on the pipeline page ---------------------------------------
  var stageList = doc.querySelector("[data-stage-sortable]");
  if (stageList && window.Sortable) {
    var markEnds = function () {
      var rows = stageList.querySelectorAll(":scope > .stage-row");
      Array.prototype.forEach.call(rows, function (row, i) {
        var up = row.querySelector('[data-testid="stage-up"]');
        var down = row.querySelector('[data-testid="stage-down"]');
        if (up) up.disabled = i === 0;
        if (down) down.disabled = i === rows.length - 1;
      });
    };
    window.Sortable.create(stageList, {
      handle: ".stage-handle",
      draggable: ".stage-row",
      animation: 150,
      forceFallback: true,
      ghostClass: "is-ghost",
      onEnd: function (evt) {
        if (evt.oldIndex === evt.newIndex) return;
        markEnds();
        var body = new URLSearchParams();
        Array.prototype.forEach.call(stageList.querySelectorAll(":scope > .stage-row"), function (row) {
          body.append("ids", row.getAttribute("data-stage-id"));
        });
        post(stageList.getAttribute("data-order-url"), body).then(function (r) {
          toastFrom(r.res);
        }, function (err) {
          if (!toastFrom(err.response)) toast(meta("i18n-error"), "error");
          window.location.reload();
        });
      }
    });
  }

  // --- The board ----------------------------------------------------------------
  var board = doc.querySelector("[data-board]");
  if (!board) return;
  var base = board.getAttribute("data-base");
  var pipeline = board.getAttribute("data-pipeline");
  var filter = board.getAttribute("data-filter") || "";
  var dragging = false;
  var justDragged = false;
  var pending = []; // live events that came during a drag

  function list(stageId) {
    return board.querySelector('[data-cards][data-stage-id="' + stageId + '"]');
  }
  function cardOf(id) {
    return doc.getElementById("lead-" + id);
  }
  function cardsIn(ol) {
    return Array.prototype.filter.call(ol.children, function (el) { return el.classList.contains("lead-card"); });
  }
  function sibling(card, dir) {
    var el = dir < 0 ? card.previousElementSibling : card.nextElementSibling;
    while (el && !el.classList.contains("lead-card")) el = dir < 0 ? el.previousElementSibling : el.nextElementSibling;
    return el;
  }

  // place puts card into its stage's column before the first card with a greater key. A
  // column that shows only its first cards (its "Show more" is there) does not take a
  // card whose key comes after the last one shown: that card is in the part not loaded yet.
  function place(card, stageId, rank) {
    var ol = list(stageId);
    if (!ol) { if (card.parentNode) card.parentNode.removeChild(card); return; }
    card.setAttribute("data-stage-id", stageId);
    card.setAttribute("data-rank", rank);
    var others = cardsIn(ol).filter(function (c) { return c !== card; });
    var next = null;
    for (var i = 0; i < others.length; i++) {
      if (others[i].getAttribute("data-rank") > rank) { next = others[i]; break; }
    }
    var more = doc.getElementById("more-" + stageId);
    if (!next && more && more.firstElementChild && others.length > 0) {
      if (card.parentNode) card.parentNode.removeChild(card);
      return;
    }
    if (card.parentNode === ol && sibling(card, 1) === next) return; // already there
    ol.insertBefore(card, next);
  }

  function removeCard(id) {
    var c = cardOf(id);
    if (c && c.parentNode) c.parentNode.removeChild(c);
  }

  // swapIn puts a card fragment from the server in place of the old card, if any. A live
  // refresh (force false) of a card whose menu is open only moves it, so a keyboard
  // user's menu stays where it is; focus inside a replaced card moves to the same control.
  function swapIn(id, html, force) {
    var fresh = fragment(html);
    if (!fresh || !fresh.classList.contains("lead-card")) return null;
    var old = cardOf(id);
    if (old && !force && old.querySelector("details[open]")) {
      place(old, fresh.getAttribute("data-stage-id"), fresh.getAttribute("data-rank"));
      return old;
    }
    var focused = old && old.contains(doc.activeElement) ? doc.activeElement.getAttribute("data-testid") || "lead-open" : "";
    if (old && old !== fresh) {
      old.parentNode.replaceChild(fresh, old);
    }
    place(fresh, fresh.getAttribute("data-stage-id"), fresh.getAttribute("data-rank"));
    if (window.htmx) window.htmx.process(fresh);
    if (focused && fresh.parentNode) {
      var again = fresh.querySelector('[data-testid="' + focused + '"]') || fresh.querySelector(".lead-card-title");
      if (again) again.focus({ preventScroll: true });
    }
    return fresh;
  }

  // refreshCard fetches a card as this board's filters show it: 204 means hidden or gone.
  // Only the latest answer for a card is used. force: see swapIn.
  var seq = {};
  function refreshCard(id, force) {
    seq[id] = (seq[id] || 0) + 1;
    var mine = seq[id];
    var url = base + "/leads/" + id + "/card" + (filter ? "?" + filter : "");
    return fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } }).then(function (res) {
      if (seq[id] !== mine || dragging) return null;
      if (res.status === 204) { removeCard(id); return null; }
      if (!res.ok) return null;
      return res.text().then(function (html) {
        if (seq[id] !== mine || dragging) return null;
        return swapIn(id, html, !!force);
      });
    }).catch(function () { return null; });
  }

  var totalsTimer = null;
  function refreshTotals() {
    clearTimeout(totalsTimer);
    totalsTimer = setTimeout(function () {
      var url = base + "/totals?pipeline=" + encodeURIComponent(pipeline) + (filter ? "&" + filter : "");
      fetch(url, { credentials: "same-origin" }).then(function (res) {
        return res.ok ? res.json() : null;
      }).then(function (data) {
        if (!data || !data.stages) return;
        Object.keys(data.stages).forEach(function (sid) {
          var col = board.querySelector('.board-column[data-stage-id="' + sid + '"]');
          if (!col) return;
          var t = data.stages[sid];
          var count = col.querySelector("[data-count]");
          var sum = col.querySelector("[data-sum]");
          if (count) { count.textContent = String(t.count); count.setAttribute("aria-label", t.count_label); }
          if (sum) sum.textContent = t.sum;
        });
      }).catch(function () { /* the next change refreshes them */ });
    }, 120);
  }

  // --- Dragging ---------------------------------------------------------------
  var origin = null;
  function onEnd(evt) {
    dragging = false;
    justDragged = true;
    setTimeout(function () { justDragged = false; }, 0);
    var card = evt.item;
    var from = origin;
    origin = null;
    if (evt.from === evt.to && evt.oldIndex === evt.newIndex) { flush(); return; }
    var stageId = evt.to.getAttribute("data-stage-id");
    var above = sibling(card, -1);
    var below = sibling(card, 1);
    var body = new URLSearchParams();
    body.set("stage_id", stageId);
    if (above) body.set("after_id", above.getAttribute("data-lead-id"));
    if (below) body.set("before_id", below.getAttribute("data-lead-id"));
    body.set("return", window.location.pathname + window.location.search);
    var id = card.getAttribute("data-lead-id");
    card.setAttribute("data-stage-id", stageId);
    card.setAttribute("aria-busy", "true");
    post(base + "/leads/" + id + "/move", body).then(function (r) {
      seq[id] = (seq[id] || 0) + 1; // an older refresh must not undo this
      swapIn(id, r.text, true);
      refreshTotals();
      flush();
    }, function (err) {
      card.removeAttribute("aria-busy");
      if (from) {
        from.list.insertBefore(card, from.next && from.next.parentNode === from.list ? from.next : null);
        card.setAttribute("data-stage-id", from.list.getAttribute("data-stage-id"));
      }
      if (!toastFrom(err.response)) toast(board.getAttribute("data-move-failed") || meta("i18n-error"), "error");
      flush();
    });
  }

  if (window.Sortable) {
    Array.prototype.forEach.call(board.querySelectorAll("[data-cards]"), function (ol) {
      window.Sortable.create(ol, {
        group: "board-cards",
        draggable: ".lead-card",
        filter: "button, select, input, textarea, summary, .dropdown-menu",
        preventOnFilter: false,
        forceFallback: true,
        fallbackOnBody: true,
        fallbackTolerance: 4,
        delay: 250,
        delayOnTouchOnly: true,
        animation: 120,
        emptyInsertThreshold: 24,
        ghostClass: "is-ghost",
        scroll: true,
        bubbleScroll: true,
        onStart: function (evt) {
          dragging = true;
          origin = { list: evt.from, next: evt.item.nextElementSibling };
          Array.prototype.forEach.call(board.querySelectorAll("details.lead-move[open]"), function (d) { d.open = false; });
        },
        onEnd: onEnd
      });
    });
  }
  // A drag that starts on the title must not open the lead when it ends.
  board.addEventListener("click", function (e) {
    if (justDragged && e.target.closest(".lead-card")) { e.preventDefault(); e.stopPropagation(); }
  }, true);

  // --- The card menus -----------------------------------------------------------
  board.addEventListener("submit", function (e) {
    var form = e.target.closest("[data-move-form]");
    if (!form || e.defaultPrevented) return;
    e.preventDefault();
    var body = new URLSearchParams(new FormData(form));
    body.delete("dir");
    if (e.submitter && e.submitter.name) body.set(e.submitter.name, e.submitter.value);
    body.set("return", window.location.pathname + window.location.search);
    var card = form.closest(".lead-card");
    var id = card.getAttribute("data-lead-id");
    var menu = form.closest("details");
    var which = e.submitter ? e.submitter.getAttribute("data-testid") : "";
    post(form.getAttribute("action"), body).then(function (r) {
      seq[id] = (seq[id] || 0) + 1;
      var fresh = swapIn(id, r.text, true);
      refreshTotals();
      toastFrom(r.res);
      // Keep the keyboard where it was: after up or down the same menu, open again, on
      // the moved card (its form loads as it opens); after a move to a stage, its button.
      // After an answer to the AI (a form outside the menu), the card's title.
      if (fresh && !menu) {
        var title = fresh.querySelector(".lead-card-title");
        if (title) title.focus({ preventScroll: true });
        if (fresh.scrollIntoView) fresh.scrollIntoView({ block: "nearest", inline: "nearest" });
      } else if (fresh) {
        var again = fresh.querySelector("details.lead-move");
        if (again && which && which !== "lead-move-submit") {
          again.addEventListener("htmx:afterSettle", function () {
            var b = again.querySelector('[data-testid="' + which + '"]');
            if (b) b.focus();
          }, { once: true });
          again.open = true;
        } else if (again) {
          again.querySelector("summary").focus();
        }
        if (fresh.scrollIntoView) fresh.scrollIntoView({ block: "nearest", inline: "nearest" });
      } else if (menu) {
        menu.open = false;
      }
    }, function (err) {
      if (!toastFrom(err.response)) toast(board.getAttribute("data-move-failed") || meta("i18n-error"), "error");
    });
  });

  // --- Live events --------------------------------------------------------------
  function payloadOf(e) {
    try {
      var ev = JSON.parse(e.detail && e.detail.data);
      return ev && ev.payload ? ev.payload : null;
    } catch (err) {
      return null;
    }
  }
  function handle(type, p) {
    if (!p || String(p.pipeline_id) !== pipeline) return;
    switch (type) {
      case "lead.moved":
        var card = cardOf(p.lead_id);
        if (card) place(card, String(p.to_stage_id), p.rank);
        refreshCard(p.lead_id);
        refreshTotals();
        break;
      case "lead.created":
      case "lead.updated":
      case "lead.suggestion_created":
      case "lead.suggestion_closed":
        refreshCard(p.lead_id);
        refreshTotals();
        break;
      case "lead.deleted":
        removeCard(p.lead_id);
        refreshTotals();
        break;
      case "pipeline.changed":
        // Stages were added, renamed, reordered or deleted: the columns are the page.
        if (!doc.querySelector("dialog[open]") && !board.querySelector("details.lead-move[open]")) window.location.reload();
        break;
    }
  }
  function flush() {
    var todo = pending;
    pending = [];
    todo.forEach(function (t) { handle(t[0], t[1]); });
  }
  var live = board.querySelector("[data-board-live]");
  if (live) {
    ["lead.moved", "lead.created", "lead.updated", "lead.deleted", "pipeline.changed", "lead.suggestion_created",
      "lead.suggestion_closed"].forEach(function (type) {
      live.addEventListener("sse:" + type, function (e) {
        var p = payloadOf(e);
        if (dragging) pending.push([type, p]);
        else handle(type, p);
      });
    });
  }

  // --- The lead drawer and the new-lead dialog -----------------------------------
  var drawer = doc.getElementById("lead-drawer");
  doc.body.addEventListener("htmx:afterSwap", function (e) {
    var t = e.detail && e.detail.target;
    if (t && t.id === "lead-drawer-body" && drawer && !drawer.open) drawer.showModal();
  });
  function closeDialogOf(el) {
    var d = el && el.closest ? el.closest("dialog") : null;
    if (d && d.open) d.close();
  }
  doc.body.addEventListener("leadSaved", function (e) {
    closeDialogOf(e.target);
    if (e.detail && e.detail.id) refreshCard(e.detail.id, true);
    refreshTotals();
  });
  doc.body.addEventListener("leadCreated", function (e) {
    closeDialogOf(e.target);
    if (e.detail && e.detail.id) {
      refreshCard(e.detail.id, true).then(function (card) {
        if (card) {
          card.classList.add("is-flash");
          card.scrollIntoView({ block: "nearest", inline: "nearest" });
          setTimeout(function () { card.classList.remove("is-flash"); }, 1600);
        }
      });
    }
    refreshTotals();
  });
  doc.body.addEventListener("leadDeleted", function (e) {
    closeDialogOf(e.target);
    if (e.detail && e.detail.id) removeCard(e.detail.id);
    refreshTotals();
  });
})();
