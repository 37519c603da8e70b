// Bundles shared as Hugging Face Hub model repos: 'hf:user/repo' or 'hf:user/repo@revision'
// names a repo whose files are served at {hubUrl}/{user}/{repo}/resolve/{revision}/{file}.
// The files are fetched like any URL (redirects to the Hub's file store are followed).

/**
 * Package-wide settings. `hubUrl` is where `hf:` ids resolve (a mirror, or a local server
 * in tests); one call can override it with `loadClassifier(id, { hubUrl })`.
 */
export const env = { hubUrl: 'https://huggingface.co' };

const HUB_ID = /^hf:([A-Za-z0-9][\w.-]*)\/([A-Za-z0-9][\w.-]*)(?:@(.+))?$/;

/** { repo: 'user/repo', revision } for an `hf:` id, null for anything else. */
export function parseHubId(location) {
  const text = String(location);
  if (!text.startsWith('hf:')) return null;
  const m = HUB_ID.exec(text.replace(/\/+$/, ''));
  if (!m) {
    throw new TypeError(`${text}: expected a Hub id like hf:user/repo or hf:user/repo@revision`);
  }
  return { repo: `${m[1]}/${m[2]}`, revision: m[3] ?? 'main' };
}

/** The directory URL that holds the repo's files at that revision. */
export function hubBaseUrl({ repo, revision }, hubUrl = env.hubUrl) {
  let root;
  try {
    root = new URL(String(hubUrl).replace(/\/*$/, '/'));
  } catch {
    throw new TypeError(`hubUrl: expected an absolute http(s) URL, got ${hubUrl}`);
  }
  // A revision may be a branch with slashes (refs/pr/1): the Hub takes it encoded.
  return new URL(`${repo}/resolve/${encodeURIComponent(revision)}/`, root);
}

/** What to tell the user when the Hub answers `status` for one file. */
export function hubFileError(id, name, url, status, statusText) {
  const what = `${id.repo}@${id.revision}: ${name}`;
  if (status === 404) {
    return `${what} was not found (HTTP 404 for ${url}); check the repo id, the revision and that the repo holds the bundle's files at its top level`;
  }
  if (status === 401 || status === 403) {
    return `${what}: HTTP ${status} for ${url}; the repo is private or gated, or the id is misspelt`;
  }
  return `${what}: HTTP ${status} ${statusText} for ${url}`;
}
