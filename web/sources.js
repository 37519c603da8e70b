// Where a bundle's files come from, behind one interface: an http(s) or page-relative URL
// (fetch), an `hf:` Hub id (fetch from the Hub's resolve URLs), or, in Node, a directory
// path or file: URL (read from disk by web/node.js through `platform`).
import { env, hubBaseUrl, hubFileError, parseHubId } from './hub.js';

/**
 * What differs between runtimes. The defaults are the browser's; web/node.js (the package's
 * `node` entry) replaces them, so bundles for the browser never see Node modules.
 */
export const platform = {
  name: 'browser',
  /** The URL that relative locations resolve against. */
  baseUrl: () => globalThis.document?.baseURI ?? globalThis.location?.href,
  /** A location that is not a URL (a file path), as a URL; null when paths mean nothing here. */
  pathToUrl: null,
  /** Reads a file: URL; null where there is no file system. */
  readFile: null,
  /** Starts the worker for { worker: true }; null: a module Worker (browser). */
  startWorker: null,
};

// A scheme of two letters or more (a Windows drive letter, C:, is a path).
const HAS_SCHEME = /^[a-z][a-z0-9+.-]+:/i;

/**
 * The source for a bundle location. `read(name, init)` resolves to the file's bytes or
 * rejects naming the file and where it was looked for; `location` is an absolute form
 * that a worker can open again; `cacheable` says whether the Cache API applies.
 */
export function openSource(location, { hubUrl } = {}) {
  const hub = parseHubId(location);
  if (hub) return hubSource(hub, hubUrl);
  const text = String(location);
  const dir = text.endsWith('/') || text.endsWith('\\') ? text : `${text}/`;
  const base = !HAS_SCHEME.test(dir) && platform.pathToUrl ? platform.pathToUrl(dir) : resolveUrl(dir, text);
  if (base.protocol === 'file:') return fileSource(base, text);
  return {
    location: base.href,
    cacheable: true,
    url: (name) => new URL(name, base),
    read: (name, init) => fetchBytes(new URL(name, base), name, init),
  };
}

function hubSource(id, hubUrl) {
  const base = hubBaseUrl(id, hubUrl);
  return {
    location: `hf:${id.repo}@${id.revision}`,
    hubUrl: String(hubUrl ?? env.hubUrl),
    cacheable: true,
    url: (name) => new URL(name, base),
    read: (name, init) =>
      fetchBytes(new URL(name, base), name, init, (url, r) => hubFileError(id, name, url, r.status, r.statusText)),
  };
}

/** `dir` as a URL; a relative one with nothing to resolve against is refused, saying why. */
function resolveUrl(dir, location) {
  const baseUrl = platform.baseUrl();
  if (baseUrl === undefined && !HAS_SCHEME.test(dir)) {
    throw new Error(
      nodeEntryHint(location) ??
        `loadClassifier('${location}'): a relative location needs a page to resolve against (no document or location here); pass an absolute http(s) URL`,
    );
  }
  return new URL(dir, baseUrl);
}

/**
 * In Node, the message for a browser-entry import given a path or file: URL; undefined
 * elsewhere. Only reads process.versions, so pages never load a Node module.
 */
function nodeEntryHint(location) {
  if (!globalThis.process?.versions?.node) return undefined;
  return (
    `loadClassifier('${location}'): a file path or file: URL needs Node's entry of this package: ` +
    `import { loadClassifier } from 'intent-classifier' resolves to it in Node (web/node.js); ` +
    `web/classifier.js is the browser entry and reads http(s) URLs only`
  );
}

function fileSource(base, location) {
  if (!platform.readFile) {
    throw new Error(
      nodeEntryHint(location) ?? `${base.href}: file: URLs are read in Node.js only; in a page, serve the bundle over http(s)`,
    );
  }
  return {
    location: base.href,
    cacheable: false,
    url: (name) => new URL(name, base),
    read: (name) => platform.readFile(new URL(name, base), name),
  };
}

/** The bytes at an http(s) URL (or a file: URL in Node); errors name the file and the URL. */
export async function fetchBytes(url, name, init, describeStatus) {
  if (url.protocol === 'file:' && platform.readFile) return platform.readFile(url, name);
  let response;
  try {
    response = await fetch(url, init);
  } catch (e) {
    throw new Error(`${name}: cannot fetch ${url} (${e.cause?.message ?? e.message})`);
  }
  if (!response.ok) {
    throw new Error(describeStatus?.(url, response) ?? `${name}: HTTP ${response.status} ${response.statusText} for ${url}`);
  }
  if ((response.headers.get('content-type') ?? '').startsWith('text/html')) {
    throw new Error(`${name}: the server sent an HTML page instead of the file (${url})`);
  }
  return new Uint8Array(await response.arrayBuffer());
}
