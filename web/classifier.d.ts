// Public API of the intent classifier package (hand-written; checked by `tsc --noEmit`
// against examples/web-app and examples/node in the test run).

/** One intent and its softmax probability. */
export interface IntentScore {
  intent: string;
  probability: number;
}

/** The result of classifying one text. */
export interface Classification {
  /** The chosen intent, or `'unknown'` (see `reason`). */
  intent: string;
  /** Whether the text is close enough to the training intents (energy <= threshold), readable and familiar. */
  known: boolean;
  /**
   * Why the result is unknown, absent when it is known: `'energy'`, the energy is above the
   * threshold; `'unreadable'`, more than half of the text's word pieces are the tokenizer's
   * unknown token (a script its vocabulary does not cover, emoji), whatever the energy;
   * `'unfamiliar'`, the text shows nothing the model knows: no word (`5`, `?`, `🙂`), mostly
   * a script its intents are not written in, or no word of its training data or tokenizer
   * (keyboard mash such as `asdf`), whatever the energy.
   */
  reason?: 'energy' | 'unreadable' | 'unfamiliar';
  /** Probability of the top intent. */
  confidence: number;
  /** -logsumexp(logits): lower means more familiar. */
  energy: number;
  /** The threshold this call used. */
  threshold: number;
  /** The best `topK` intents, most probable first. */
  top: IntentScore[];
  /**
   * The text as the model read it, present only when typos were repaired: a word one edit
   * from a training word, and not a word the tokenizer knows whole, is read as that word.
   */
  repaired?: string;
  /** Only with `{ evidence: true }`: which tokens drove the top intent. */
  evidence?: Evidence;
}

/** One token of the text and its push toward the explained intent. */
export interface TokenEvidence {
  token: string;
  /** Offsets into the text (string indices); start === end for special tokens. */
  start: number;
  end: number;
  /** Sum of the shares of the channels whose winning window covers this token. */
  contribution: number;
}

/** One conv channel: the window that won its max-pool and what it adds to the logit. */
export interface ChannelEvidence {
  branch: number;
  channel: number;
  /** Token positions start..end of the winning window (may reach into padding). */
  start: number;
  end: number;
  /** Pooled activation (after ReLU). */
  activation: number;
  /** activation × the classifier weight for the explained intent. */
  contribution: number;
}

/** Why the top intent scored as it did: bias + Σ channels.contribution === logit. */
export interface Evidence {
  /** The top intent (also when the result is unknown). */
  intent: string;
  logit: number;
  bias: number;
  tokens: TokenEvidence[];
  channels: ChannelEvidence[];
}

export interface ClassifyOptions {
  /** How many intents `top` lists: a positive integer (default 3). */
  topK?: number;
  /** Energy threshold for this call, a finite number (default: the classifier's). */
  threshold?: number;
  /** Also return `evidence` (classify only; costs a slower forward pass). */
  evidence?: boolean;
}

export interface LoadOptions {
  /** Which wasm build to run (default: relaxed SIMD where the runtime has it). */
  kernel?: 'relaxed' | 'simd128';
  /**
   * Run in a worker (a module Worker in browsers, a worker_threads Worker in Node);
   * every method then returns a Promise.
   */
  worker?: boolean;
  /** Keep table and tokenizer in the Cache API under their sha256 (default true; browsers only). */
  cache?: boolean;
  /** Where `hf:` ids resolve, e.g. a mirror (default `env.hubUrl`). */
  hubUrl?: string | URL;
}

/**
 * Where a bundle is: a directory URL (relative to the page in browsers), an
 * `hf:user/repo` or `hf:user/repo@revision` Hugging Face Hub id, or in Node a directory
 * path (absolute, or relative to the working directory) or a `file:` URL.
 */
export type BundleLocation = string | URL;

/** Package-wide settings. */
export declare const env: {
  /** Where `hf:` ids resolve (default https://huggingface.co). */
  hubUrl: string;
};

export interface ConvBranch {
  kernel: number;
  padding: number;
}

export interface Architecture {
  embed_dim: number;
  channels: number;
  branches: ConvBranch[];
  max_len: number;
}

/** What every model's info() says: its card. */
interface ModelInfoBase {
  /** Whether classify() can give token `evidence` (a TextCNN: yes; a sentence encoder reads the query whole). */
  explains: boolean;
  labels: string[];
  /** The threshold in effect (setThreshold, else the model's). */
  threshold: number;
  /** The threshold calibrated by the trainer. */
  modelThreshold: number;
  maxChars: number;
  vocabSize: number;
  /** License of the embedding or encoder source, when it names one. */
  license: string | null;
  /** When the model was trained (ISO 8601), when recorded. */
  trainedAt: string | null;
  /** The trainer's settings and data sizes. */
  training: Record<string, unknown>;
  /** The trainer's held-out evaluation (accuracy, AUROC, FPR95, ...). */
  metrics: Record<string, unknown>;
  loadMs: number;
  /**
   * Where the load's time went, in ms from its start: the wasm module compiled and
   * instantiated, the bundle files in hand (both run at once), then the module's set-up of
   * the classifier from the files (hash checks, tokenizer, table or encoder, network).
   */
  loadStages: { wasmMs: number; filesMs: number; setupMs: number };
  /** Files this load took from the Cache API instead of the network. */
  cached: string[];
}

/** A TextCNN over a token table (`trainer train`, the default kind). */
export interface TextCnnInfo extends ModelInfoBase {
  kind: 'textcnn-intent';
  architecture: Architecture;
  /** The token table: its source (with license), dims and format. */
  embedding: { source: string; dim: number; source_dim: number; explained_variance: number; tokenizer_sha256: string };
  /** 'simd128', 'simd128+relaxed' or 'scalar'. */
  kernel: string;
  /** Byte size of each bundle file. */
  bytes: { model: number; table: number; tokenizer: number };
}

/** A pretrained sentence encoder with a trained linear head (`trainer encoder`), for few examples per intent. */
export interface SentenceEncoderInfo extends ModelInfoBase {
  kind: 'sentence-encoder-intent';
  /** Length of the encoder's sentence vectors. */
  dim: number;
  /** Byte size of each bundle file. */
  bytes: { model: number; encoder: number; tokenizer: number };
}

/** What the model is; `kind` tells the two kinds apart. */
export type ModelInfo = TextCnnInfo | SentenceEncoderInfo;

/**
 * A classifier on the page: results come back synchronously. Arguments are checked as
 * declared: a text that is not a string throws a TypeError naming it (`classify: text must
 * be a string, got null`; `classifyBatch: texts[2] ...`), a threshold or topK that is not a
 * number a TypeError, a NaN or infinite threshold or a topK below 1 a RangeError.
 */
export interface Classifier {
  classify(text: string, options?: ClassifyOptions): Classification;
  classifyBatch(texts: Iterable<string>, options?: ClassifyOptions): Classification[];
  /** Sets the threshold for later calls; `undefined` restores the model's own. */
  setThreshold(threshold: number | undefined): void;
  logits(text: string): Float32Array;
  /** TextCNN bundles only; a sentence-encoder bundle throws (it reads text, not ids). */
  logitsForIds(ids: Iterable<number>): Float32Array;
  tokenIds(text: string): Uint32Array;
  info(): ModelInfo;
  /** Frees the wasm memory; later calls throw. */
  dispose(): void;
}

/**
 * The same classifier in a module worker: the page never waits on it. Bad arguments reject
 * with the errors the page classifier throws (same type and message).
 */
export interface WorkerClassifier {
  classify(text: string, options?: ClassifyOptions): Promise<Classification>;
  classifyBatch(texts: Iterable<string>, options?: ClassifyOptions): Promise<Classification[]>;
  setThreshold(threshold: number | undefined): Promise<void>;
  logits(text: string): Promise<Float32Array>;
  logitsForIds(ids: Iterable<number>): Promise<Float32Array>;
  tokenIds(text: string): Promise<Uint32Array>;
  info(): Promise<ModelInfo>;
  /** Ends the worker; pending and later calls reject. */
  dispose(): void;
}

/** Bundle file names by role. */
export declare const BUNDLE_FILES: Readonly<{ model: string; table: string; encoder: string; tokenizer: string }>;
/** The Cache API bucket that holds bundle files. */
export declare const CACHE_NAME: string;
/** The `format` a TextCNN bundle's model.safetensors names (`info().kind`). */
export declare const TEXTCNN_FORMAT: 'textcnn-intent';
/** The `format` a sentence-encoder bundle's model.safetensors names (`info().kind`). */
export declare const ENCODER_FORMAT: 'sentence-encoder-intent';

/**
 * Loads the bundle in `modelBaseUrl` (a directory with model.safetensors, tokenizer.json
 * and table.safetensors, or encoder.safetensors for the sentence-encoder kind). Rejects
 * with an Error naming the bad file.
 */
export declare function loadClassifier(
  modelBaseUrl: BundleLocation,
  options: LoadOptions & { worker: true },
): Promise<WorkerClassifier>;
export declare function loadClassifier(
  modelBaseUrl?: BundleLocation,
  options?: LoadOptions & { worker?: false },
): Promise<Classifier>;

export declare function detectKernel(): 'relaxed' | 'simd128';
export declare function safetensorsMetadata(bytes: Uint8Array): Record<string, string> | null;
