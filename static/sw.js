// Master IA service worker.
//
// The server serves this file at /sw.js with two constants prepended (see
// embed.go): PRECACHE, the content-hashed URLs of the app's static files plus
// "/offline", and VERSION, a hash of all assets. A new deploy changes VERSION,
// so the browser installs a new worker and the old cache is dropped.
//
// Strategy:
//   - hashed /static/ files: cache first (they never change under one URL);
//   - page navigations: network only, falling back to the cached /offline page.
//     Pages hold one organisation's private data, so they are never cached;
//   - everything else (POST, htmx fragments, /events SSE, /api): not touched.

/* global PRECACHE, VERSION */
const CACHE_PREFIX = "masteria-";
const CACHE = CACHE_PREFIX + VERSION;
const OFFLINE_URL = "/offline";
const HASHED = /\.[0-9a-f]{8}(\.[a-z0-9]+)?$/;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith(CACHE_PREFIX) && key !== CACHE).map((key) => caches.delete(key))
      ))
      .then(() => self.clients.claim())
  );
});

function untouched(request, url) {
  const path = url.pathname;
  return request.method !== "GET" ||
    url.origin !== self.location.origin ||
    path === "/events" || path.startsWith("/events/") ||
    path === "/api" || path.startsWith("/api/") ||
    (request.headers.get("Accept") || "").includes("text/event-stream");
}

function offline() {
  return caches.match(OFFLINE_URL).then((page) =>
    page || new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } })
  );
}

function cacheFirst(request) {
  return caches.match(request).then((hit) => {
    if (hit) {
      return hit;
    }
    return fetch(request).then((response) => {
      if (response.ok) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(request, copy));
      }
      return response;
    });
  });
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (untouched(request, url)) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(offline));
    return;
  }
  if (url.pathname.startsWith("/static/") && HASHED.test(url.pathname)) {
    event.respondWith(cacheFirst(request));
  }
  // The manifest changes with a deploy: the network first, the cached copy when offline.
  if (url.pathname === "/manifest.webmanifest") {
    event.respondWith(fetch(request).catch(() => caches.match(request)));
  }
});
