//! `trainer table`: a pretrained model's token embeddings → the compact table.
//! The rows are either the model's input embedding layer or, with `--embeddings distilled`,
//! each token's output from the model's encoder (see `distill`). PCA to `dims`
//! (covariance accumulated in blocks, eigenvectors from faer), then int8 with one scale
//! per row.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use faer::{Mat, Side};
use model::bundle::{sha256_hex, TABLE_FILE, TOKENIZER_FILE};
use model::table::TableMeta;
use model::EmbeddingTable;
use safetensors::{Dtype, SafeTensors};

/// Rows of the source matrix processed at once: bounds the extra memory to one block.
const BLOCK_ROWS: usize = 4096;

#[derive(clap::Args, Debug)]
pub struct TableArgs {
    /// A model directory holding tokenizer.json and model.safetensors.
    #[arg(long)]
    pub model_dir: Option<PathBuf>,
    /// tokenizer.json (default: MODEL_DIR/tokenizer.json).
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// safetensors file with the token-embedding matrix (default: MODEL_DIR/model.safetensors).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Name of the [vocab, d] token-embedding tensor (`--embeddings input`).
    #[arg(long, default_value = "embeddings.word_embeddings.weight")]
    pub tensor: String,
    /// Which vectors become the table's rows.
    #[arg(long, value_enum, default_value_t = EmbeddingSource::Input)]
    pub embeddings: EmbeddingSource,
    /// The encoder's config.json (`--embeddings distilled`; default: MODEL_DIR/config.json).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// PCA dimensions kept.
    #[arg(long, default_value_t = 128)]
    pub dims: usize,
    /// Source label recorded in the table's metadata (default: the weights path).
    #[arg(long)]
    pub source: Option<String>,
    /// Output directory: receives table.safetensors and a copy of tokenizer.json.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmbeddingSource {
    /// The model's input token-embedding matrix (`--tensor`).
    Input,
    /// Each token run alone through the model's BERT encoder, output states mean-pooled.
    Distilled,
}

/// Principal components of the rows of a [rows, cols] matrix.
pub struct Pca {
    pub mean: Vec<f64>,
    /// [dims][cols], strongest first.
    pub components: Vec<Vec<f64>>,
    pub explained_variance: f64,
}

/// PCA of `rows` (row-major, `cols` wide) keeping `dims` components. Memory beyond the
/// input: one block and the cols x cols covariance.
pub fn pca(rows: &[f32], cols: usize, dims: usize) -> Result<Pca> {
    let n = rows.len() / cols;
    if n < 2 || dims == 0 || dims > cols {
        bail!("PCA needs at least 2 rows and 0 < dims <= {cols} (got {n} rows, dims {dims})");
    }
    let mut mean = vec![0f64; cols];
    for row in rows.chunks_exact(cols) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut cov = Mat::<f64>::zeros(cols, cols);
    for block in rows.chunks(BLOCK_ROWS * cols) {
        let b = block.len() / cols;
        let centered = Mat::<f64>::from_fn(b, cols, |i, j| block[i * cols + j] as f64 - mean[j]);
        cov += centered.transpose() * &centered;
    }
    let cov = cov * faer::Scale(1.0 / (n - 1) as f64);
    let eig = cov
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| anyhow::anyhow!("eigendecomposition failed: {e:?}"))?;
    let values = eig.S().column_vector();
    let vectors = eig.U();
    let total: f64 = (0..cols).map(|i| values[i].max(0.0)).sum();
    let mut components = Vec::with_capacity(dims);
    let mut kept = 0.0;
    // Eigenvalues come in increasing order: the strongest components are last.
    for k in (cols - dims..cols).rev() {
        kept += values[k].max(0.0);
        let mut v: Vec<f64> = (0..cols).map(|i| vectors[(i, k)]).collect();
        // Fix each component's sign so the output does not depend on the solver's choice.
        let pivot = v
            .iter()
            .copied()
            .fold(0f64, |a, x| if x.abs() > a.abs() { x } else { a });
        if pivot < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
        components.push(v);
    }
    Ok(Pca {
        mean,
        components,
        explained_variance: if total > 0.0 { kept / total } else { 0.0 },
    })
}

impl Pca {
    /// Projects rows onto the components ([rows, dims], f32).
    pub fn project(&self, rows: &[f32], cols: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(rows.len() / cols * self.components.len());
        for row in rows.chunks_exact(cols) {
            for c in &self.components {
                let dot: f64 = row
                    .iter()
                    .zip(&self.mean)
                    .zip(c)
                    .map(|((&x, m), w)| (x as f64 - m) * w)
                    .sum();
                out.push(dot as f32);
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

/// Reads tensor `name` of `path` as f32 [rows, cols].
pub fn read_matrix(path: &Path, name: &str) -> Result<(Vec<f32>, usize, usize)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let st = SafeTensors::deserialize(&bytes)
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
    let (rows, cols) = (view.shape()[0], view.shape()[1]);
    let data = match view.dtype() {
        Dtype::F32 => view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Dtype::BF16 => view
            .data()
            .chunks_exact(2)
            .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16))
            .collect(),
        other => bail!(
            "{}: tensor `{name}` has dtype {other:?}; F32 or BF16 is needed",
            path.display()
        ),
    };
    Ok((data, rows, cols))
}

pub fn run(args: &TableArgs) -> Result<()> {
    let in_dir = |file: &str| args.model_dir.as_ref().map(|d| d.join(file));
    let tokenizer_path = args
        .tokenizer
        .clone()
        .or_else(|| in_dir(TOKENIZER_FILE))
        .context("give --model-dir or --tokenizer")?;
    let weights_path = args
        .weights
        .clone()
        .or_else(|| in_dir("model.safetensors"))
        .context("give --model-dir or --weights")?;
    let tokenizer_bytes = std::fs::read(&tokenizer_path)
        .with_context(|| format!("cannot read {}", tokenizer_path.display()))?;
    let encoder = model::TextEncoder::from_bytes(&tokenizer_bytes, 64)
        .map_err(|e| anyhow::anyhow!("{}: {}", tokenizer_path.display(), e.problem))?;
    let started = std::time::Instant::now();
    let (matrix, rows, cols, origin) = match args.embeddings {
        EmbeddingSource::Input => {
            let (m, r, c) = read_matrix(&weights_path, &args.tensor)?;
            (m, r, c, args.tensor.clone())
        }
        EmbeddingSource::Distilled => {
            let config = args
                .config
                .clone()
                .or_else(|| in_dir("config.json"))
                .context("give --model-dir or --config")?;
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
            (m, r, c, "encoder output, mean-pooled per token".to_string())
        }
    };
    if encoder.vocab_size() != rows {
        bail!(
            "{} has {} tokens but tensor `{}` in {} has {rows} rows",
            tokenizer_path.display(),
            encoder.vocab_size(),
            args.tensor,
            weights_path.display()
        );
    }
    let pca = pca(&matrix, cols, args.dims)?;
    let projected = pca.project(&matrix, cols);
    drop(matrix);
    let table = EmbeddingTable::quantize(&projected, args.dims);
    let cosine = mean_row_cosine(&projected, &table.dequantize(), args.dims);
    println!(
        "PCA {cols} -> {} dims over {rows} rows: explained variance {:.4}; \
         mean cosine(PCA row, int8 row) {:.5} ({:.1} s)",
        args.dims,
        pca.explained_variance,
        cosine,
        started.elapsed().as_secs_f64()
    );
    if cosine < 0.99 {
        bail!("int8 rows drift too far from the PCA rows (mean cosine {cosine:.4} < 0.99)");
    }
    let meta = TableMeta {
        source: args
            .source
            .clone()
            .unwrap_or_else(|| format!("{} :: {origin}", weights_path.display())),
        dim: args.dims,
        source_dim: cols,
        explained_variance: pca.explained_variance,
        tokenizer_sha256: sha256_hex(&tokenizer_bytes),
    };
    crate::output::write_dir_atomically(
        &args.out,
        &[
            (TABLE_FILE, table.serialize(&meta)),
            (TOKENIZER_FILE, tokenizer_bytes),
        ],
    )?;
    println!("wrote {}", args.out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let p = pca(&rows, 2, 1).unwrap();
        assert!(
            (p.components[0][0] - 0.6).abs() < 1e-6,
            "{:?}",
            p.components
        );
        assert!((p.components[0][1] - 0.8).abs() < 1e-6);
        assert!(p.explained_variance > 0.9999);
        let proj = p.project(&rows, 2);
        // Centered: t runs -25..=24, so its mean is -0.5.
        assert!((proj[0] + 24.5).abs() < 1e-3, "{}", proj[0]);
    }
}
