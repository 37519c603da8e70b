// The worker_threads side of loadClassifier(path, { worker: true }) in Node.
import { parentPort } from 'node:worker_threads';
import './node.js';
import { answer } from './worker.js';

parentPort.on('message', async (data) => parentPort.postMessage(await answer(data)));
