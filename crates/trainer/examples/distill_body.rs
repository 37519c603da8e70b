//! A TextCNN body distilled from sentence embeddings (written by `sentence_embed`): the
//! network's head maps the pooled features to the teacher's dimensions and the loss is one
//! minus the cosine to the teacher's vector. Writes a body for `trainer train --body`, and
//! optionally the student's own normalised vectors for PROBE.json (to compare with the
//! teacher's on sentences it never saw).
//!
//! `cargo run -p trainer --release --example distill_body -- TABLE_DIR CORPUS.json
//!  TEACHER.f32 OUT_BODY.safetensors EPOCHS LR [PROBE.json PROBE_OUT.f32]`

use anyhow::{bail, ensure, Context, Result};
use candle_core::{Device, Tensor, D};
use model::Architecture;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use training::body::Body;
use training::network::{BnStats, Network, RowInput};
use training::optim::AdamW;
use training::train::Embeddings;

const BATCH: usize = 64;
/// Every HELD_OUT_EVERY-th corpus sentence is kept out of training, to report the fit.
const HELD_OUT_EVERY: usize = 50;

struct Student<'a> {
    net: Network,
    embeddings: &'a Embeddings,
    ids: Vec<Vec<u32>>,
}

impl Student<'_> {
    /// Unit-length outputs for sentences `rows` ([rows, dims]).
    fn vectors(&mut self, rows: &[usize], rng: Option<&mut ChaCha12Rng>) -> Result<Tensor> {
        let arch = self.net.arch.clone();
        let embedded: Vec<Vec<f32>> = rows
            .iter()
            .map(|&i| self.embeddings.table.lookup(&self.ids[i]))
            .collect();
        let inputs: Vec<RowInput> = rows
            .iter()
            .zip(&embedded)
            .map(|(&i, e)| RowInput {
                embedded: e,
                len: arch.effective_len(self.ids[i].len()),
            })
            .collect();
        let batch = self.net.batch(&inputs)?;
        let out = match rng {
            Some(rng) => {
                self.net
                    .forward_train(&batch, &[(0, rows.len())], BnStats::Known, 0.0, rng)?
            }
            None => self.net.forward_eval(&batch)?,
        };
        let norm = out.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?;
        Ok(out.broadcast_div(&norm)?)
    }
}

fn read_f32(path: &str) -> Result<Vec<f32>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {path}"))?;
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

fn read_texts(path: &str) -> Result<Vec<String>> {
    serde_json::from_str(&std::fs::read_to_string(path)?)
        .with_context(|| format!("{path}: expected a JSON list of strings"))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (table_dir, corpus, teacher, out, epochs, lr, probe) = match args.as_slice() {
        [t, c, te, o, e, l, rest @ ..] if rest.is_empty() || rest.len() == 2 => {
            (t, c, te, o, e.parse::<usize>()?, l.parse::<f64>()?, rest)
        }
        _ => bail!(
            "usage: distill_body TABLE_DIR CORPUS.json TEACHER.f32 OUT_BODY EPOCHS LR \
             [PROBE.json PROBE_OUT.f32]"
        ),
    };
    let dir = std::path::Path::new(table_dir);
    let arch = Architecture::default();
    let table_bytes = std::fs::read(dir.join("table.safetensors"))?;
    let embeddings = Embeddings::from_bytes(
        table_bytes.clone(),
        std::fs::read(dir.join("tokenizer.json"))?,
        arch.max_len,
        table_dir,
    )?;
    let texts = read_texts(corpus)?;
    let teacher = read_f32(teacher)?;
    ensure!(
        !texts.is_empty() && teacher.len() % texts.len() == 0,
        "the teacher file does not hold one vector per corpus sentence"
    );
    let dims = teacher.len() / texts.len();
    let device = Device::Cpu;
    let mut student = Student {
        net: Network::new(&arch, dims, 1, &device)?,
        embeddings: &embeddings,
        ids: texts.iter().map(|t| embeddings.encoder.encode(t)).collect(),
    };
    let target = |rows: &[usize]| -> Result<Tensor> {
        let v: Vec<f32> = rows
            .iter()
            .flat_map(|&i| teacher[i * dims..(i + 1) * dims].iter().copied())
            .collect();
        Ok(Tensor::from_vec(v, (rows.len(), dims), &device)?)
    };
    let mut optimizer = AdamW::new(student.net.trainable(), lr, 0.0)?;
    let mut rng = ChaCha12Rng::seed_from_u64(1);
    let held: Vec<usize> = (0..texts.len()).step_by(HELD_OUT_EVERY).collect();
    let mut order: Vec<usize> = (0..texts.len())
        .filter(|i| i % HELD_OUT_EVERY != 0)
        .collect();
    let total_steps = epochs * order.len().div_ceil(BATCH);
    let mut step = 0;
    for epoch in 1..=epochs {
        order.shuffle(&mut rng);
        let mut loss_sum = 0.0;
        for rows in order.chunks(BATCH) {
            // Cosine decay of the learning rate to zero.
            let progress = step as f64 / total_steps as f64;
            optimizer.lr = lr * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
            step += 1;
            let cosine = student
                .vectors(rows, Some(&mut rng))?
                .mul(&target(rows)?)?
                .sum(D::Minus1)?;
            let loss = (1.0 - cosine.mean_all()?)?;
            optimizer.backward_step(&loss)?;
            loss_sum += loss.to_scalar::<f32>()? as f64;
        }
        let held_cosine = student
            .vectors(&held, None)?
            .mul(&target(&held)?)?
            .sum(D::Minus1)?
            .mean_all()?
            .to_scalar::<f32>()?;
        let steps = order.len().div_ceil(BATCH) as f64;
        eprintln!(
            "epoch {epoch}: loss {:.4}, held-out cosine {held_cosine:.4}",
            loss_sum / steps
        );
    }
    let sha = model::bundle::sha256_hex(&table_bytes);
    let body = Body::of(&student.net, &sha, &format!("distilled from {corpus}"))?;
    std::fs::write(out, body.to_bytes()).with_context(|| format!("cannot write {out}"))?;
    if let [probe_texts, probe_out] = probe {
        let probe_texts = read_texts(probe_texts)?;
        student.ids = probe_texts
            .iter()
            .map(|t| embeddings.encoder.encode(t))
            .collect();
        let mut bytes = Vec::new();
        let all: Vec<usize> = (0..probe_texts.len()).collect();
        for rows in all.chunks(256) {
            for v in student
                .vectors(rows, None)?
                .flatten_all()?
                .to_vec1::<f32>()?
            {
                bytes.extend(v.to_le_bytes());
            }
        }
        std::fs::write(probe_out, bytes).with_context(|| format!("cannot write {probe_out}"))?;
    }
    Ok(())
}
