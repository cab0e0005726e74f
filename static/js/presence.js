// Master IA inbox: "someone else is viewing / typing here". No build step; CSP-safe.
//
// While a conversation is open and the tab is visible, the page tells the server every 10 s
// that the member is viewing it, and every 3 s at most while they type in the composer.
// The server relays it to the other members' pages as a transient SSE event
// (conversation.presence), which the [data-presence] element receives (sse-swap; the swap
// itself is cancelled here). A viewer is forgotten 15 s after their last word, a typist 5 s.
(function () {
  "use strict";

  var doc = document;
  var VIEWING_MS = 15000, TYPING_MS = 5000, BEAT_MS = 10000, TYPING_EVERY_MS = 3000;
  var seen = {};       // user id → {name, viewing, typing}: until when (ms)
  var seenConv = "";   // the conversation seen is about
  var lastTyping = 0;

  function box() { return doc.querySelector("[data-presence]"); }

  function csrf() {
    var m = doc.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function post(state) {
    var p = box();
    if (!p || doc.hidden) return;
    var body = new URLSearchParams();
    body.set("state", state);
    fetch(p.getAttribute("data-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf() },
      body: body
    }).catch(function () { /* offline: the next beat tries again */ });
  }

  function render() {
    var p = box();
    if (!p) return;
    if (p.getAttribute("data-conversation-id") !== seenConv) {
      seen = {};
      seenConv = p.getAttribute("data-conversation-id");
    }
    var now = Date.now(), parts = [];
    Object.keys(seen).forEach(function (k) {
      var s = seen[k];
      var key = s.typing > now ? "data-label-typing" : s.viewing > now ? "data-label-viewing" : "";
      if (!key) { delete seen[k]; return; }
      parts.push((p.getAttribute(key) || "").replace("{name}", s.name));
    });
    var text = parts.join(" · ");
    if (p.textContent !== text) p.textContent = text;
    p.classList.toggle("is-active", parts.length > 0);
  }

  doc.addEventListener("htmx:sseBeforeMessage", function (e) {
    var p = e.target;
    if (!p || !p.matches || !p.matches("[data-presence]")) return;
    e.preventDefault(); // the data is JSON, not HTML to swap in
    var ev;
    try { ev = JSON.parse(e.detail.data); } catch (err) { return; }
    var d = (ev && ev.payload) || {};
    if (String(d.conversation_id) !== p.getAttribute("data-conversation-id")) return;
    if (String(d.user_id) === p.getAttribute("data-me")) return; // not to oneself
    render(); // resets the list when another conversation opened meanwhile
    var now = Date.now();
    var s = seen[d.user_id] || (seen[d.user_id] = { viewing: 0, typing: 0 });
    s.name = d.name || "";
    s.viewing = now + VIEWING_MS; // typing is viewing too
    if (d.state === "typing") s.typing = now + TYPING_MS;
    render();
  });

  doc.addEventListener("input", function (e) {
    if (!e.target.matches || !e.target.matches("[data-composer] textarea")) return;
    var now = Date.now();
    if (now - lastTyping < TYPING_EVERY_MS) return;
    lastTyping = now;
    post("typing");
  });

  var openConv = "";
  function opened() {
    var p = box();
    var cur = p ? p.getAttribute("data-conversation-id") : "";
    if (cur && cur !== openConv) post("viewing");
    openConv = cur;
    render();
  }

  doc.addEventListener("htmx:afterSettle", opened);
  doc.addEventListener("visibilitychange", function () { if (!doc.hidden) post("viewing"); });
  setInterval(function () { post("viewing"); }, BEAT_MS);
  setInterval(render, 1000);
  opened();
})();
