// The offline page's service worker: keeps the page, the verifier's modules, the QR decoder
// (WebAssembly), the stylesheet and the icons, so that an inspector with no network can
// still open the page from the home screen and check stamps. Served by /kiem-tra-vien/sw.js
// with the list below filled in (each file by its content's URL: a release is a new worker).
// The trust list and the snapshot are kept too (network first, the last copy otherwise);
// the page itself checks them and keeps the last good ones.

const ASSETS = {{ assets | tojson }};
const PAGE = {{ page | tojson }};
const DATA = ["/.well-known/ocop-trust-list.json", "/offline/snapshot.json"];
const CACHE = {{ cache_name | tojson }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll([PAGE, ...ASSETS]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith("ocop-kiem-tra-vien-") && name !== CACHE)
            .map((name) => caches.delete(name)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

async function networkFirst(request, key, fallback = key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const kept = (await cache.match(key)) ?? (await cache.match(fallback));
    if (kept) return kept;
    throw error;
  }
}

async function cacheFirst(request) {
  const kept = await caches.match(request, { cacheName: CACHE });
  return kept ?? fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === PAGE) {
    // Kept by its address (?lang=en is the English page); the Vietnamese one otherwise.
    event.respondWith(networkFirst(request, url.pathname + url.search, PAGE));
  } else if (DATA.includes(url.pathname)) {
    event.respondWith(networkFirst(request, url.pathname));
  } else if (ASSETS.includes(url.pathname + url.search) || url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
  }
});
