// DreamLake console media worker: requests the console marks with ?dl-auth=1 (video, audio and image sources)
// get the signed-in user's Bearer header, so the browser streams them with range requests like any URL.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

async function token() {
  const cache = await caches.open('dreamlake-console');
  const res = await cache.match('/__dreamlake_token');
  return res ? res.text() : null;
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || url.searchParams.get('dl-auth') !== '1') return;
  event.respondWith(
    (async () => {
      url.searchParams.delete('dl-auth');
      const headers = new Headers();
      for (const name of ['range', 'if-range', 'if-none-match', 'accept']) {
        const value = event.request.headers.get(name);
        if (value) headers.set(name, value);
      }
      const bearer = await token();
      if (bearer) headers.set('authorization', `Bearer ${bearer}`);
      return fetch(url, { method: event.request.method, headers, cache: 'no-store' });
    })(),
  );
});
