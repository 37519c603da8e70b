// The package's `intent-classifier/train` entry in Node: trainer.js with Node's ways of
// reading files and starting workers (web/node.js).
//
//   import { trainClassifier } from 'intent-classifier/train';
import './node.js';

export * from './trainer.js';
