// The worker_threads side of trainClassifier in Node.
import { parentPort } from 'node:worker_threads';
import './node.js';
import { train } from './train-worker.js';

parentPort.on('message', (data) => train(data, (message, transfer) => parentPort.postMessage(message, transfer)));
