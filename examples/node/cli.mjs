// Classifies each line of stdin: node cli.mjs [bundle dir | hf:user/repo] < queries.txt
import { createInterface } from 'node:readline';
import { loadClassifier } from 'intent-classifier';

const clf = await loadClassifier(process.argv[2] ?? 'models/default/');
for await (const line of createInterface({ input: process.stdin })) {
  const r = clf.classify(line);
  console.log(`${r.known ? r.intent : 'unknown'}\t${r.confidence.toFixed(2)}\t${line}`);
}
clf.dispose();
