//! `trainer table`: a pretrained model's token embeddings → the compact table.
//! The rows are either the model's input embedding layer or, with `--embeddings distilled`,
//! each token's output from the model's encoder (see `distill`). With `--prune N` the
//! vocabulary is first cut to N pieces (see `prune`) and only those rows are kept. PCA to
//! `dims` (covariance accumulated in blocks, eigenvectors from faer), then product
//! quantization (one byte per `--pq-sub-dim` dimensions, 4 by default, see `model::table`).
//! The source matrix is memory-mapped, never copied whole: a 250k x 384 multilingual matrix
//! costs its file's pages plus one block.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use faer::{Mat, Side};
use model::bundle::{sha256_hex, TABLE_FILE, TOKENIZER_FILE};
use model::table::TableMeta;
use model::tensor_codec::{bf16_values, f32_values};
use model::EmbeddingTable;
use safetensors::{Dtype, SafeTensors};

use crate::model_source::ModelSource;
use crate::prune;

/// Rows of the source matrix processed at once: bounds the extra memory to one block.
const BLOCK_ROWS: usize = 4096;
/// The least mean cosine between a PCA row and its quantized row that `table` accepts.
const MIN_QUANTIZED_COSINE: f64 = 0.85;

#[derive(clap::Args, Debug)]
pub struct TableArgs {
    /// The pretrained model: a directory holding tokenizer.json and model.safetensors, or a
    /// Hugging Face model id (org/name; cached under HF_HOME, HF_HUB_OFFLINE=1 to forbid
    /// downloads).
    #[arg(long, alias = "model-dir")]
    pub model: Option<String>,
    /// tokenizer.json (default: the model's).
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// safetensors file with the token-embedding matrix (default: the model's model.safetensors).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Name of the [vocab, d] token-embedding tensor (`--embeddings input`).
    #[arg(long, default_value = "embeddings.word_embeddings.weight")]
    pub tensor: String,
    /// Which vectors become the table's rows.
    #[arg(long, value_enum, default_value_t = EmbeddingSource::Input)]
    pub embeddings: EmbeddingSource,
    /// The encoder's config.json (`--embeddings distilled`; default: the model's).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Keep only this many vocabulary pieces (Unigram tokenizers; `--prune` alone: 30000):
    /// every piece of the `--keep-texts`, then single CJK characters, then Latin/ASCII/CJK
    /// pieces by score. Writes the pruned tokenizer.json with the table.
    #[arg(long, num_args = 0..=1, default_missing_value = "30000")]
    pub prune: Option<usize>,
    /// WordPiece tokenizers: drop the pieces Latin-script text never produces (`[unusedN]`
    /// placeholders, pieces of other scripts), so the table holds only rows English queries
    /// can reach. Writes the pruned tokenizer.json with the table.
    #[arg(long, conflicts_with = "prune")]
    pub latin_only: bool,
    /// JSON files whose strings must split exactly as before pruning (data.json,
    /// noise.json, CLINC150's data_full.json: every string in them counts).
    #[arg(long, num_args = 1..)]
    pub keep_texts: Vec<PathBuf>,
    /// JSON files to compare the full and pruned splits on (tokens unchanged, unknown
    /// tokens), reported after pruning.
    #[arg(long, num_args = 1..)]
    pub compare_texts: Vec<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// How the rows are stored: product-quantized (one byte per `--pq-sub-dim` dims) or
    /// int8 rows (one byte per dim).
    #[arg(long, value_enum, default_value_t = RowStorage::Pq)]
    pub quantization: RowStorage,
    /// Dims per byte of a product-quantized row: 4 for English; 2 keeps apart the many CJK
    /// characters of a bilingual vocabulary at twice the bytes. When it does not divide
    /// --dims, one sub-vector spans the row.
    #[arg(long, default_value_t = model::table::build::SUB_DIM)]
    pub pq_sub_dim: usize,
    /// PCA dimensions kept.
    #[arg(long, default_value_t = 128)]
    pub dims: usize,
    /// Source label recorded in the table's metadata (default: the weights path).
    #[arg(long)]
    pub source: Option<String>,
    /// Output directory: receives table.safetensors and tokenizer.json (pruned or copied).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowStorage {
    Pq,
    Int8,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmbeddingSource {
    /// The model's input token-embedding matrix (`--tensor`).
    Input,
    /// Each token run alone through the model's BERT encoder, output states mean-pooled.
    Distilled,
}

/// A [rows, cols] token-embedding matrix: memory-mapped from a safetensors file (read row
/// by row, F32 or BF16) or held in memory.
pub struct TokenMatrix {
    rows: usize,
    cols: usize,
    storage: Storage,
}

enum Storage {
    Mapped {
        map: memmap2::Mmap,
        start: usize,
        dtype: Dtype,
    },
    Owned(Vec<f32>),
}

impl TokenMatrix {
    /// Maps tensor `name` of the safetensors file at `path`.
    pub fn open(path: &Path, name: &str) -> Result<Self> {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        // SAFETY: the map is only read, and the file is an input nobody writes meanwhile.
        let map = unsafe { memmap2::Mmap::map(&file) }
            .with_context(|| format!("cannot map {}", path.display()))?;
        let st = SafeTensors::deserialize(&map)
            .with_context(|| format!("{}: not a safetensors file", path.display()))?;
        let view = st.tensor(name).map_err(|_| {
            let mut names = st.names();
            names.sort();
            let shown: Vec<&str> = names.into_iter().take(8).collect();
            anyhow::anyhow!(
                "{}: tensor `{name}` is not in the file (it has e.g. {})",
                path.display(),
                shown.join(", ")
            )
        })?;
        if view.shape().len() != 2 {
            bail!(
                "{}: tensor `{name}` has shape {:?}, expected [vocab, d]",
                path.display(),
                view.shape()
            );
        }
        let dtype = view.dtype();
        if !matches!(dtype, Dtype::F32 | Dtype::BF16) {
            bail!(
                "{}: tensor `{name}` has dtype {dtype:?}; F32 or BF16 is needed",
                path.display()
            );
        }
        let (rows, cols) = (view.shape()[0], view.shape()[1]);
        let start = view.data().as_ptr() as usize - map.as_ptr() as usize;
        Ok(Self {
            rows,
            cols,
            storage: Storage::Mapped { map, start, dtype },
        })
    }

    /// A matrix already in memory (row-major, `cols` wide).
    pub fn from_rows(data: Vec<f32>, cols: usize) -> Self {
        Self {
            rows: data.len() / cols,
            cols,
            storage: Storage::Owned(data),
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i` as f32.
    pub fn row(&self, i: usize, out: &mut [f32]) {
        let cols = self.cols;
        match &self.storage {
            Storage::Owned(data) => out.copy_from_slice(&data[i * cols..(i + 1) * cols]),
            Storage::Mapped { map, start, dtype } => {
                let width = dtype.bitsize() / 8;
                let at = start + i * cols * width;
                let bytes = &map[at..at + cols * width];
                if *dtype == Dtype::F32 {
                    out.iter_mut()
                        .zip(f32_values(bytes))
                        .for_each(|(o, v)| *o = v);
                } else {
                    out.iter_mut()
                        .zip(bf16_values(bytes))
                        .for_each(|(o, v)| *o = v);
                }
            }
        }
    }

    /// Rows `ids` minus `mean`, as an f64 matrix.
    fn centered_block(&self, ids: &[u32], mean: &[f64]) -> Mat<f64> {
        let mut row = vec![0f32; self.cols];
        let mut block = Mat::<f64>::zeros(ids.len(), self.cols);
        for (r, &id) in ids.iter().enumerate() {
            self.row(id as usize, &mut row);
            for (j, (&v, m)) in row.iter().zip(mean).enumerate() {
                block[(r, j)] = v as f64 - m;
            }
        }
        block
    }
}

/// Principal components of a set of rows.
pub struct Pca {
    pub mean: Vec<f64>,
    /// [cols, dims], strongest component first.
    pub components: Mat<f64>,
    pub explained_variance: f64,
}

/// PCA of the rows `ids` of `matrix`, keeping `dims` components. Memory beyond the matrix:
/// one block of rows and the cols x cols covariance.
pub fn pca(matrix: &TokenMatrix, ids: &[u32], dims: usize) -> Result<Pca> {
    let (n, cols) = (ids.len(), matrix.cols());
    if n < 2 || dims == 0 || dims > cols {
        bail!("PCA needs at least 2 rows and 0 < dims <= {cols} (got {n} rows, dims {dims})");
    }
    let mut mean = vec![0f64; cols];
    let mut row = vec![0f32; cols];
    for &id in ids {
        matrix.row(id as usize, &mut row);
        for (m, &v) in mean.iter_mut().zip(&row) {
            *m += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut cov = Mat::<f64>::zeros(cols, cols);
    for block_ids in ids.chunks(BLOCK_ROWS) {
        let centered = matrix.centered_block(block_ids, &mean);
        cov += centered.transpose() * &centered;
    }
    let cov = cov * faer::Scale(1.0 / (n - 1) as f64);
    let eig = cov
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| anyhow::anyhow!("eigendecomposition failed: {e:?}"))?;
    let values = eig.S().column_vector();
    let vectors = eig.U();
    let total: f64 = (0..cols).map(|i| values[i].max(0.0)).sum();
    let mut components = Mat::<f64>::zeros(cols, dims);
    let mut kept = 0.0;
    // Eigenvalues come in increasing order: the strongest components are last.
    for (d, k) in (cols - dims..cols).rev().enumerate() {
        kept += values[k].max(0.0);
        // Fix each component's sign so the output does not depend on the solver's choice.
        let pivot =
            (0..cols)
                .map(|i| vectors[(i, k)])
                .fold(0f64, |a, x| if x.abs() > a.abs() { x } else { a });
        let sign = if pivot < 0.0 { -1.0 } else { 1.0 };
        for i in 0..cols {
            components[(i, d)] = sign * vectors[(i, k)];
        }
    }
    Ok(Pca {
        mean,
        components,
        explained_variance: if total > 0.0 { kept / total } else { 0.0 },
    })
}

impl Pca {
    /// Projects rows `ids` of `matrix` onto the components ([ids.len(), dims], f32).
    pub fn project(&self, matrix: &TokenMatrix, ids: &[u32]) -> Vec<f32> {
        let dims = self.components.ncols();
        let mut out = Vec::with_capacity(ids.len() * dims);
        for block_ids in ids.chunks(BLOCK_ROWS) {
            let projected = matrix.centered_block(block_ids, &self.mean) * &self.components;
            for r in 0..block_ids.len() {
                out.extend((0..dims).map(|d| projected[(r, d)] as f32));
            }
        }
        out
    }
}

/// Mean cosine similarity between matching rows of two [rows, dim] matrices.
pub fn mean_row_cosine(a: &[f32], b: &[f32], dim: usize) -> f64 {
    let mut total = 0.0;
    let mut count = 0usize;
    for (x, y) in a.chunks_exact(dim).zip(b.chunks_exact(dim)) {
        let dot: f64 = x
            .iter()
            .zip(y)
            .map(|(p, q)| (*p as f64) * (*q as f64))
            .sum();
        let nx: f64 = x.iter().map(|p| (*p as f64).powi(2)).sum::<f64>().sqrt();
        let ny: f64 = y.iter().map(|p| (*p as f64).powi(2)).sum::<f64>().sqrt();
        if nx > 0.0 && ny > 0.0 {
            total += dot / (nx * ny);
            count += 1;
        }
    }
    if count == 0 {
        1.0
    } else {
        total / count as f64
    }
}

/// Every string of the JSON files at `paths`.
fn strings_of(paths: &[PathBuf]) -> Result<Vec<String>> {
    let mut texts = Vec::new();
    for path in paths {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not JSON", path.display()))?;
        prune::json_strings(&value, &mut texts);
    }
    Ok(texts)
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        100.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// The model's token embeddings and tokenizer, as `table` reads them.
struct Inputs {
    tokenizer_path: PathBuf,
    weights_path: PathBuf,
    tokenizer_bytes: Vec<u8>,
    encoder: model::TextEncoder,
    matrix: TokenMatrix,
    /// Where the rows came from, for the table's `source`.
    origin: String,
}

/// The vocabulary the table keeps: its tokenizer, the source rows it keeps, in order, and a
/// note for the table's `source` when pruned.
struct Vocabulary {
    tokenizer: Vec<u8>,
    ids: Vec<u32>,
    pruned_note: Option<String>,
}

/// `trainer table`: read the model's token embeddings, prune the vocabulary if asked, reduce
/// the rows with PCA and quantize them, then write the table and its tokenizer.
pub fn run(args: &TableArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let inputs = read_inputs(args, started)?;
    let vocabulary = kept_vocabulary(args, &inputs)?;
    let (table, meta) = compressed_table(args, inputs, &vocabulary, started)?;
    let table_bytes = table.serialize(&meta);
    println!(
        "table.safetensors {:.2} MB, tokenizer.json {:.2} MB",
        table_bytes.len() as f64 / 1e6,
        vocabulary.tokenizer.len() as f64 / 1e6
    );
    crate::output::write_dir_atomically(
        &args.out,
        &[
            (TABLE_FILE, table_bytes),
            (TOKENIZER_FILE, vocabulary.tokenizer),
        ],
    )?;
    println!("wrote {}", args.out.display());
    Ok(())
}

/// The tokenizer and the token embeddings (the input tensor, or the encoder's outputs per
/// token with `--embeddings distilled`), checked to have a row per token.
fn read_inputs(args: &TableArgs, started: std::time::Instant) -> Result<Inputs> {
    let source = args.model.as_deref().map(ModelSource::parse).transpose()?;
    let model_file = |explicit: &Option<PathBuf>, file: &str, flag: &str| -> Result<PathBuf> {
        match (explicit, &source) {
            (Some(path), _) => Ok(path.clone()),
            (None, Some(source)) => source.file(file),
            (None, None) => bail!("give --model or {flag}"),
        }
    };
    let tokenizer_path = model_file(&args.tokenizer, TOKENIZER_FILE, "--tokenizer")?;
    let weights_path = model_file(&args.weights, "model.safetensors", "--weights")?;
    let tokenizer_bytes = std::fs::read(&tokenizer_path)
        .with_context(|| format!("cannot read {}", tokenizer_path.display()))?;
    let encoder = model::TextEncoder::from_bytes(&tokenizer_bytes, 64)
        .map_err(|e| anyhow::anyhow!("{}: {}", tokenizer_path.display(), e.problem))?;
    let (matrix, origin) = match args.embeddings {
        EmbeddingSource::Input => (
            TokenMatrix::open(&weights_path, &args.tensor)?,
            args.tensor.clone(),
        ),
        EmbeddingSource::Distilled => {
            let config = model_file(&args.config, "config.json", "--config")?;
            let (m, r, c) = crate::distill::encoder_token_embeddings(
                &config,
                &weights_path,
                encoder.tokenizer(),
                args.quiet,
            )?;
            println!(
                "encoder outputs for {r} tokens in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            (
                TokenMatrix::from_rows(m, c),
                "encoder output, mean-pooled per token".to_string(),
            )
        }
    };
    if encoder.vocab_size() != matrix.rows() {
        bail!(
            "{} has {} tokens but tensor `{}` in {} has {} rows",
            tokenizer_path.display(),
            encoder.vocab_size(),
            args.tensor,
            weights_path.display(),
            matrix.rows()
        );
    }
    Ok(Inputs {
        tokenizer_path,
        weights_path,
        tokenizer_bytes,
        encoder,
        matrix,
        origin,
    })
}

/// Every token, or the pieces `--prune` / `--latin-only` keep (reported, with how the kept
/// texts' tokens compare with `--compare-texts`).
fn kept_vocabulary(args: &TableArgs, inputs: &Inputs) -> Result<Vocabulary> {
    let rows = inputs.matrix.rows();
    let tokenizer_bytes = &inputs.tokenizer_bytes;
    let pruning = match (args.prune, args.latin_only) {
        (None, false) => None,
        (Some(target), _) => {
            let keep = strings_of(&args.keep_texts)?;
            Some((prune::prune_unigram(tokenizer_bytes, &keep, target), keep))
        }
        (None, true) => {
            let keep = strings_of(&args.keep_texts)?;
            Some((
                prune::prune_wordpiece_to_latin(tokenizer_bytes, &keep),
                keep,
            ))
        }
    };
    let Some((pruned, keep)) = pruning else {
        return Ok(Vocabulary {
            tokenizer: tokenizer_bytes.clone(),
            ids: (0..rows as u32).collect(),
            pruned_note: None,
        });
    };
    let pruned = pruned.with_context(|| inputs.tokenizer_path.display().to_string())?;
    println!(
        "pruned {rows} -> {} pieces ({} for the {} kept texts and special tokens, {} \
         single CJK characters, {} by score); tokenizer.json {:.2} MB",
        pruned.old_ids.len(),
        pruned.from_texts,
        keep.len(),
        pruned.from_cjk_chars,
        pruned.from_scores,
        pruned.tokenizer_json.len() as f64 / 1e6
    );
    if let Some(differences) = &pruned.normalizer_differences {
        println!(
            "normalizer: NFKC with SentencePiece's nmt rules in place of the \
             precompiled character map; every kept text normalizes the same, single \
             code points differ only at {:?}",
            differences
                .iter()
                .map(|&c| format!("U+{:04X}", c as u32))
                .collect::<Vec<_>>()
        );
    }
    let small = tokenizers::Tokenizer::from_bytes(&pruned.tokenizer_json)
        .map_err(|e| anyhow::anyhow!("pruned tokenizer: {e}"))?;
    for path in &args.compare_texts {
        let texts = strings_of(std::slice::from_ref(path))?;
        let a = prune::split_agreement(inputs.encoder.tokenizer(), &small, &texts)?;
        println!(
            "{}: tokens unchanged: non-CJK {:.2}% of {}, CJK {:.2}% of {}; unknown \
             tokens after pruning {:.3}% of {}",
            path.display(),
            percent(a.other_unchanged, a.other_tokens),
            a.other_tokens,
            percent(a.cjk_unchanged, a.cjk_tokens),
            a.cjk_tokens,
            percent(a.pruned_unknown, a.pruned_tokens),
            a.pruned_tokens
        );
    }
    Ok(Vocabulary {
        pruned_note: Some(format!(
            ", pruned to {} of {rows} pieces",
            pruned.old_ids.len()
        )),
        tokenizer: pruned.tokenizer_json,
        ids: pruned.old_ids,
    })
}

/// The kept rows reduced to `--dims` with PCA and quantized, checked against the PCA rows,
/// and the table's metadata.
fn compressed_table(
    args: &TableArgs,
    inputs: Inputs,
    vocabulary: &Vocabulary,
    started: std::time::Instant,
) -> Result<(EmbeddingTable, TableMeta)> {
    if args.pq_sub_dim == 0 {
        bail!("--pq-sub-dim must be at least 1");
    }
    let Inputs {
        matrix,
        weights_path,
        origin,
        ..
    } = inputs;
    let cols = matrix.cols();
    let ids = &vocabulary.ids;
    let pca = pca(&matrix, ids, args.dims)?;
    let projected = pca.project(&matrix, ids);
    drop(matrix);
    let table = match args.quantization {
        RowStorage::Pq => EmbeddingTable::quantize_with(&projected, args.dims, args.pq_sub_dim),
        RowStorage::Int8 => EmbeddingTable::quantize_int8(&projected, args.dims),
    };
    let cosine = mean_row_cosine(&projected, &table.dequantize(), args.dims);
    println!(
        "PCA {cols} -> {} dims over {} rows: explained variance {:.4}; \
         mean cosine(PCA row, quantized row) {:.5} ({:.1} s)",
        args.dims,
        ids.len(),
        pca.explained_variance,
        cosine,
        started.elapsed().as_secs_f64()
    );
    // Product quantization keeps about 0.95 on real tables; far less means broken input
    // (constant rows, a wrong tensor), not a lossy-but-usable table.
    if cosine < MIN_QUANTIZED_COSINE {
        bail!(
            "quantized rows drift too far from the PCA rows (mean cosine {cosine:.4} < \
             {MIN_QUANTIZED_COSINE})"
        );
    }
    let meta = TableMeta {
        source: args
            .source
            .clone()
            .unwrap_or_else(|| format!("{} :: {origin}", weights_path.display()))
            + vocabulary.pruned_note.as_deref().unwrap_or(""),
        dim: args.dims,
        source_dim: cols,
        explained_variance: pca.explained_variance,
        tokenizer_sha256: sha256_hex(&vocabulary.tokenizer),
    };
    Ok((table, meta))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        table: TableArgs,
    }

    #[test]
    fn prune_alone_means_thirty_thousand_pieces() {
        let prune = |args: &[&str]| {
            let mut argv = vec!["table", "--out", "x"];
            argv.extend(args);
            Cli::try_parse_from(argv).unwrap().table.prune
        };
        assert_eq!(prune(&[]), None);
        assert_eq!(prune(&["--prune", "--keep-texts", "a.json"]), Some(30_000));
        assert_eq!(prune(&["--prune", "500"]), Some(500));
    }

    #[test]
    fn pca_finds_the_known_axis() {
        // Points along (3, 4)/5 with small orthogonal jitter: the first component is that axis
        // and explains nearly all variance.
        let mut rows = Vec::new();
        for i in 0..50 {
            let t = i as f32 - 25.0;
            for j in [0.1, -0.1] {
                rows.extend([t * 0.6 - j * 0.8, t * 0.8 + j * 0.6]);
            }
        }
        let matrix = TokenMatrix::from_rows(rows, 2);
        let all: Vec<u32> = (0..matrix.rows() as u32).collect();
        let p = pca(&matrix, &all, 1).unwrap();
        assert!((p.components[(0, 0)] - 0.6).abs() < 1e-6);
        assert!((p.components[(1, 0)] - 0.8).abs() < 1e-6);
        assert!(p.explained_variance > 0.9999);
        let proj = p.project(&matrix, &all);
        // Centered: t runs -25..=24, so its mean is -0.5.
        assert!((proj[0] + 24.5).abs() < 1e-3, "{}", proj[0]);
    }
}
