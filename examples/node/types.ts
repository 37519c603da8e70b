// Compile-time checks of the Node options (tsc --noEmit; never run).
import { env, loadClassifier, type Classification, type WorkerClassifier } from 'intent-classifier';

const fromPath = await loadClassifier('/srv/models/default/');
const fromFileUrl = await loadClassifier(new URL('file:///srv/models/default/'));
const r: Classification = fromPath.classify('weather tomorrow');
env.hubUrl = 'http://127.0.0.1:8080';
const fromHub = await loadClassifier('hf:user/repo@v1', { hubUrl: 'http://mirror.local' });
const threaded: WorkerClassifier = await loadClassifier('models/default/', { worker: true });
const later: Promise<Classification> = threaded.classify('set a timer');
// @ts-expect-error hubUrl is a string or URL
await loadClassifier('hf:user/repo', { hubUrl: 8080 });
threaded.dispose();
fromFileUrl.dispose();
fromHub.dispose();

export { r, later };
