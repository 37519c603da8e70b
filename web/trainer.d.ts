// Types of web/trainer.js (training in the page, and in Node as `intent-classifier/train`;
// hand-written, like classifier.d.ts).
import type { Classifier, ModelInfo } from './classifier.js';

/** The data to train on: data.json and noise.json, as values or as their JSON text. */
export interface TrainingData {
  /** `{ intent: [sentences] }`: at least 2 intents, at least 2 sentences each. */
  intents: Record<string, string[]> | string;
  /** Off-topic sentences (`[sentences]`), pushed toward "unknown". */
  negatives?: string[] | string;
  /** table.safetensors: bytes or a URL (default: the English table, DEFAULT_TABLE). */
  table?: Uint8Array | ArrayBuffer | string | URL;
  /** tokenizer.json of that table (or, for kind 'encoder', of that encoder): bytes or a URL. */
  tokenizer?: Uint8Array | ArrayBuffer | string | URL;
  /** encoder.safetensors of a sentence-encoder bundle: bytes or a URL (kind 'encoder' only, required there). */
  encoder?: Uint8Array | ArrayBuffer | string | URL;
  /** The encoder's name and license, for the model card (default 'sentence encoder'). */
  encoderName?: string;
}

/** The sentence-encoder kind's progress: sentences embedded so far. */
export interface EmbeddingProgress {
  stage: 'embedding';
  done: number;
  total: number;
}

/** One epoch's figures, as the command line's metrics log has them (camelCase). */
export interface EpochProgress {
  epoch: number;
  /** The run's epoch count. */
  epochs: number;
  loss: number;
  crossEntropy: number;
  energyLoss: number;
  meanEnergyKnown: number;
  meanEnergyUnknown: number;
  /** Closed-set accuracy and AUROC on the validation split. */
  valAccuracy: number;
  valAuroc: number;
  /** The whole epoch, training steps and validation pass. */
  seconds: number;
  /** The validation pass alone. */
  validationSeconds: number;
}

/**
 * `trainer train`'s flags in camelCase, with its defaults; plus the call's own options. With
 * kind 'encoder' (`trainer encoder`) only seed, thresholdRule, threshold and valFraction apply
 * (ENCODER_TRAIN_OPTIONS); the others are refused.
 */
export interface TrainOptions {
  /** 'textcnn' (the default: a TextCNN over the token table) or 'encoder' (a linear head on a frozen sentence encoder). */
  kind?: 'textcnn' | 'encoder';
  epochs?: number;
  batchSize?: number;
  lr?: number;
  /** 'cosine' (the default) takes lr down to zero over the run; 'constant' keeps it. */
  lrSchedule?: 'cosine' | 'constant';
  dropout?: number;
  channels?: number;
  /** Networks trained side by side and averaged (an ensemble): as many times the bytes and classify time. */
  members?: number;
  kernels?: number[];
  paddings?: number[];
  maxLen?: number;
  seed?: number;
  energyLoss?: 'hinge' | 'seed';
  energyWeight?: number;
  marginIn?: number;
  marginOut?: number;
  synthetic?: 'gaussian' | 'table' | 'tokens' | 'spliced' | 'none';
  noiseStd?: number;
  /** Share of the words of 4+ letters given one random character edit each step, in [0, 1]. */
  typoRate?: number;
  /** 'repair' (the default) reads a word one edit from a training word as that word. */
  spelling?: 'repair' | 'off';
  labelSmoothing?: number;
  bnStats?: 'known' | 'per-pass';
  thresholdRule?: 'tpr95' | 'best-f1' | 'balanced' | 'recall75';
  weightsDtype?: 'f32' | 'f16' | 'int8';
  /** A fixed energy threshold instead of one chosen on validation. */
  threshold?: number;
  /** Share of each intent held out for validation (default 0.2). */
  valFraction?: number;
  /** Called after each epoch (a TextCNN) or embedded batch (an encoder). */
  onProgress?: (progress: EpochProgress | EmbeddingProgress) => void;
  /** Aborting stops the training worker (thread, in Node); the promise rejects with an AbortError. */
  signal?: AbortSignal;
  /** The classifier's wasm build. */
  kernel?: 'relaxed' | 'simd128';
  /** The model's name in its card (README.md). */
  name?: string;
}

/** What the run measured: threshold, temperature, validation figures, every epoch. */
export interface TrainingSummary {
  threshold: number;
  temperature: number;
  metrics: ModelInfo['metrics'];
  /** Every epoch's figures (none for kind 'encoder'). */
  epochs: Record<string, number>[];
  /** The training text's word pieces that the table cannot read (the unknown token), by script. */
  unreadable: UnreadableReport;
}

/** How much of the training text the token table reads (crates/training/src/scripts.rs). */
export interface UnreadableReport {
  /** Word pieces of the training sentences, special tokens left out. */
  pieces: number;
  /** Unknown pieces by script, most first; `share` is of all pieces. */
  unknown: { script: string; pieces: number; share: number }[];
  /** Scripts the table reads: what the model can understand. */
  read: string[];
  /** One line per script above 2% unknown, naming a table that reads it. */
  warnings: string[];
}

/** A classifier trained in the page: loadClassifier's API, plus the bundle's files. */
export interface TrainedClassifier extends Classifier {
  /** model.safetensors, table.safetensors (encoder.safetensors for kind 'encoder'), tokenizer.json and README.md, by name. */
  bundleFiles(): Record<string, Uint8Array>;
  trainingSummary(): TrainingSummary;
}

/** The package's copy of the English table (in the repository, before `npm pack`: ../assets/minilm-l6-v2/). */
export declare const DEFAULT_TABLE: URL;

/** The names of a TextCNN's training options in TrainOptions (the command line's flags, in camelCase). */
export declare const TRAIN_OPTIONS: readonly string[];
/** The names of the options a sentence-encoder fit takes. */
export declare const ENCODER_TRAIN_OPTIONS: readonly string[];

/**
 * Trains a classifier in a worker (a module Worker in pages, a worker_threads worker in
 * Node); rejects with an Error naming what is wrong.
 */
export declare function trainClassifier(data: TrainingData, options?: TrainOptions): Promise<TrainedClassifier>;
