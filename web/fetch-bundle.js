// Fetching a bundle: the model file first among equals (it names the kind and the other
// files' hashes), the files every kind reads beside it, the kind's own files once it is
// named; in browsers the large files are kept in the Cache API under their sha256.
import { BUNDLE_FILES, SHARED_ROLES, bundleLayout, kindOf, safetensorsMetadata } from './kinds.js';

/** The Cache API bucket that holds bundle files, keyed by content hash. */
export const CACHE_NAME = 'intent-classifier-v1';

async function openCache(enabled) {
  // The Cache API exists only in secure contexts (https, localhost) and may be blocked.
  if (!enabled || !globalThis.caches) return null;
  try {
    return await caches.open(CACHE_NAME);
  } catch {
    return null;
  }
}

/** The cache to look files up in: null on a first visit (no cache yet), so nothing waits. */
async function existingCache(enabled) {
  try {
    return enabled && globalThis.caches && (await caches.has(CACHE_NAME)) ? openCache(true) : null;
  } catch {
    return null;
  }
}

// The key names the content, not the location: a new model version has new hashes, so
// its files can never be mixed with an older version's.
const cacheKey = (url, sha256) => `${url.origin}${url.pathname}?sha256=${sha256}`;

/** The newest cached copy of `fileUrl` as { key, sha256 }, or undefined. */
async function cachedCopy(cache, fileUrl) {
  const prefix = `${fileUrl.origin}${fileUrl.pathname}?sha256=`;
  const keys = (await cache.keys()).filter((k) => k.url.startsWith(prefix));
  const key = keys.at(-1);
  return key && { key: key.url, sha256: key.url.slice(prefix.length) };
}

/**
 * Fetches the bundle's files. model.safetensors is always asked of the server (revalidated:
 * it is the smallest, names the kind and the others' hashes); the tokenizer, which every kind
 * reads, is asked for at the same time, so on a first visit (no cache yet) not even a cache
 * lookup comes before it. The kind's own files (the table, or the encoder) are asked for once
 * the model names the kind, so that a page never downloads another kind's file; `onKind(kind)`
 * is called then, for the caller to start the kind's wasm. Cached copies are used only if
 * their hash is the one the model names (else the file is fetched after all). Returns
 * { files, cached, store } where store() saves the fetched ones once the wasm loader has
 * verified them.
 */
export async function fetchBundle(source, useCache, onKind = () => {}) {
  const url = source.url;
  const modelBytes = source.read(BUNDLE_FILES.model, { cache: 'no-cache' });
  modelBytes.catch(() => {}); // awaited below
  const caching = useCache && source.cacheable;
  const cache = await existingCache(caching);
  const started = {};
  const start = (role) => {
    started[role] ??= (async () => {
      const name = BUNDLE_FILES[role];
      const copy = cache ? await cachedCopy(cache, url(name)) : undefined;
      return copy ? { copy } : { bytes: await source.read(name) };
    })();
    // Every download is under way; an early failure must not go unhandled while we wait.
    started[role].catch(() => {});
    return started[role];
  };
  SHARED_ROLES.forEach(start);
  const model = await modelBytes;
  const meta = safetensorsMetadata(model);
  onKind(kindOf(meta));
  const layout = bundleLayout(meta);
  const files = { model };
  const cached = [];
  const fresh = [];
  await Promise.all(
    layout.roles.map(async (role) => {
      const name = BUNDLE_FILES[role];
      const got = await start(role);
      const key = layout.hashes[role] && cacheKey(url(name), layout.hashes[role]);
      const hit = got.copy && got.copy.key === key ? await cache.match(key) : undefined;
      if (hit) {
        files[role] = new Uint8Array(await hit.arrayBuffer());
        cached.push(name);
        return;
      }
      files[role] = got.bytes ?? (await source.read(name));
      if (key) fresh.push([url(name), key, files[role]]);
    }),
  );
  async function store() {
    const target = cache ?? (fresh.length ? await openCache(caching) : null);
    if (!target) return;
    try {
      for (const [fileUrl, key, bytes] of fresh) {
        // Drop older versions of the same file, then keep this one.
        const prefix = `${fileUrl.origin}${fileUrl.pathname}?sha256=`;
        for (const old of await target.keys()) {
          if (old.url.startsWith(prefix) && old.url !== key) await target.delete(old);
        }
        await target.put(key, new Response(bytes, { headers: { 'Content-Type': 'application/octet-stream' } }));
      }
    } catch {
      // A full or unavailable cache only costs the next visit a download.
    }
  }
  return { files, cached, store };
}
