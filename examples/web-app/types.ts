// Compile-time checks of the package's declarations (tsc --noEmit; never run).
import { loadClassifier, type Classification, type ModelInfo } from 'intent-classifier';

const direct = await loadClassifier('models/default/');
const r: Classification = direct.classify('weather tomorrow', { topK: 2, threshold: -8 });
const intent: string = r.intent;
const known: boolean = r.known;
const p: number = r.top[0].probability;
// @ts-expect-error results are typed, not `any`
r.nonexistent;
// @ts-expect-error intent is a string
const wrong: number = r.intent;
const why = direct.classify('set a timer', { evidence: true }).evidence;
const strongest: string | undefined = why?.tokens[0].token;
const share: number | undefined = why?.channels[0].contribution;
const batch: Classification[] = direct.classifyBatch(['a', 'b']);
direct.setThreshold(-7.5);
const info: ModelInfo = direct.info();
// @ts-expect-error only a TextCNN has an architecture: narrow on `kind` first
info.architecture.channels;
const bytes: number =
  info.kind === 'textcnn-intent' ? info.bytes.table + info.architecture.channels : info.bytes.encoder + info.dim;
direct.dispose();

const worker = await loadClassifier('models/default/', { worker: true });
const later: Promise<Classification> = worker.classify('set a timer');
// @ts-expect-error worker results are Promises
const notYet: Classification = worker.classify('set a timer');
const card: ModelInfo = await worker.info();
worker.dispose();

export { strongest, share, intent, known, p, wrong, batch, bytes, later, notYet, card };
