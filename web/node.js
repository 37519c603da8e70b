// The package's `node` entry: the browser API (classifier.js) with Node's ways of reading
// files and starting workers. Paths and file: URLs are read from disk, http(s) URLs and
// `hf:` ids are fetched, and { worker: true } runs the model in a worker_threads worker.
//
//   import { loadClassifier } from 'intent-classifier';
//   const clf = await loadClassifier('./models/default/');
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { platform } from './sources.js';

export * from './classifier.js';

const MIN_NODE = 20;
const major = Number(process.versions.node.split('.')[0]);
if (major < MIN_NODE || typeof WebAssembly?.instantiate !== 'function' || typeof fetch !== 'function') {
  throw new Error(
    `intent-classifier needs Node.js ${MIN_NODE} or newer (WebAssembly and fetch built in, no flags); ` +
      `this is Node.js ${process.versions.node}`,
  );
}

// The worker_threads stand-in for each browser worker script.
const NODE_WORKERS = { 'worker.js': './node-worker.js', 'train-worker.js': './node-train-worker.js' };

Object.assign(platform, {
  name: 'node',
  baseUrl: () => pathToFileURL(process.cwd() + sep).href,
  pathToUrl: (path) => {
    const url = pathToFileURL(resolve(path));
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    return url;
  },
  readFile: readBytes,
  startWorker: (script = 'worker.js') => new NodeWorker(new URL(NODE_WORKERS[script], import.meta.url)),
});

async function readBytes(url, name) {
  const path = fileURLToPath(url);
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (e) {
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'a directory, not a file' : e.message;
    throw new Error(`${name}: cannot read ${path} (${why})`);
  }
}

// A worker_threads Worker behind the browser Worker's interface, which WorkerClassifier drives.
class NodeWorker {
  #worker;

  constructor(url) {
    // The worker inherits the process's flags; --input-type (for `node -e`) is for strings only.
    const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
    this.#worker = new Worker(url, { execArgv });
  }

  set onmessage(handler) {
    this.#worker.on('message', (data) => handler({ data }));
  }

  set onerror(handler) {
    this.#worker.on('error', (e) => handler({ message: e.message }));
    this.#worker.on('exit', (code) => code !== 0 && handler({ message: `the worker exited with code ${code}` }));
  }

  postMessage(message) {
    this.#worker.postMessage(message);
  }

  terminate() {
    this.#worker.terminate();
  }
}
