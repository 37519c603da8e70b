// Generated from the Rust crates by crates/trainer/tests/js_facts.rs; do not edit.
// `cargo test -p trainer --test js_facts` rewrites it when a name there changes.

/** The bundle's files, by role. */
export const BUNDLE_FILES = Object.freeze({
  model: 'model.safetensors',
  table: 'table.safetensors',
  encoder: 'encoder.safetensors',
  tokenizer: 'tokenizer.json',
});

/** The `format` of a TextCNN bundle's model.safetensors (crates/model/src/bundle.rs). */
export const TEXTCNN_FORMAT = 'textcnn-intent';
/** The `format` of a sentence-encoder bundle's model.safetensors (crates/sentence-encoder). */
export const ENCODER_FORMAT = 'sentence-encoder-intent';

/** Options of a TextCNN training run: TrainConfig's fields and the page's valFraction. */
export const TRAIN_OPTIONS = Object.freeze([
  'epochs', 'batchSize', 'lr', 'lrSchedule', 'dropout', 'channels', 'members', 'kernels', 'paddings', 'maxLen', 'seed', 'energyLoss', 'energyWeight', 'marginIn', 'marginOut', 'synthetic', 'noiseStd', 'typoRate', 'spelling', 'labelSmoothing', 'bnStats', 'thresholdRule', 'weightsDtype', 'threshold', 'valFraction',
]);
/** Options of a sentence-encoder fit: EncoderConfig's fields and the page's valFraction. */
export const ENCODER_TRAIN_OPTIONS = Object.freeze([
  'seed', 'thresholdRule', 'threshold', 'valFraction',
]);
