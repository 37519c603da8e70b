//! The flags of a training run (`TrainConfig`, its `Default` the one home of the defaults)
//! and their value types.

use anyhow::{bail, Result};
use model::{Architecture, Branch};
use serde::{Deserialize, Serialize};

use crate::evaluate::ThresholdRule;
use crate::network::BnStats;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum EnergyLoss {
    /// Squared hinges (Liu et al. 2020): relu(E_known - m_in)^2 + relu(m_out - E_unknown)^2.
    Hinge,
    /// The seed's form: mean(E_known) + relu(1 - E_unknown); unbounded below for known rows.
    Seed,
}

/// How the bundle stores the network's weights. Whatever is stored is what the threshold
/// and every reported figure are computed from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum WeightsDtype {
    F32,
    /// Half the bytes.
    F16,
    /// A quarter of the bytes: int8 weight matrices with one scale per output row.
    Int8,
}

impl WeightsDtype {
    pub(super) fn safetensors(self) -> safetensors::Dtype {
        match self {
            Self::F32 => safetensors::Dtype::F32,
            Self::F16 => safetensors::Dtype::F16,
            Self::Int8 => safetensors::Dtype::I8,
        }
    }
}

/// Synthetic inputs whose energy is pushed up, shaped like the padded known batch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum SyntheticNoise {
    /// N(0, noise_std) in every dimension (the seed's choice, with std 1).
    Gaussian,
    /// N(mean, std) of the token table's own rows, per dimension.
    Table,
    /// Random token sequences: each as long as a known sentence of the batch, its first and
    /// last tokens (the special tokens) kept, the rest drawn from the training sentences'
    /// tokens by frequency.
    Tokens,
    /// Known sentences spliced across intents: the first half of a batch sentence joined to
    /// the second half of one from another intent.
    Spliced,
    None,
}

/// How the learning rate moves over a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum LrSchedule {
    /// --lr at every step.
    Constant,
    /// From --lr down to zero along half a cosine over the run's steps (Loshchilov & Hutter
    /// 2017, without restarts), so the last epochs settle instead of jittering.
    Cosine,
}

impl LrSchedule {
    /// The learning rate of step `step` (from 0) of `total`.
    pub fn lr(self, base: f64, step: usize, total: usize) -> f64 {
        match self {
            Self::Constant => base,
            Self::Cosine => {
                let progress = step as f64 / total.max(1) as f64;
                0.5 * base * (1.0 + (std::f64::consts::PI * progress.min(1.0)).cos())
            }
        }
    }
}

/// Whether a bundle repairs typos toward its training words ([`model::spelling`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Spelling {
    /// A query word one edit from a word of the training sentences or negatives, and not a
    /// word the tokenizer knows whole, is read as that word. The words ship in the bundle.
    Repair,
    /// Queries are read as typed.
    Off,
}

/// The flags that define a training run: what a seed and data make into one model, the same
/// from the command line (`trainer train`, which flattens this into its flags) and from a
/// page. Its `Default` is the one home of the defaults; the shape's are
/// `Architecture::default()`'s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().epochs))]
    pub epochs: usize,
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().batch_size))]
    pub batch_size: usize,
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().lr))]
    pub lr: f64,
    /// How the learning rate moves over the run's steps (its length is --epochs).
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = TrainConfig::default().lr_schedule))]
    pub lr_schedule: LrSchedule,
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().dropout))]
    pub dropout: f32,
    /// Output channels of each conv branch (of each member, with --members).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().channels))]
    pub channels: usize,
    /// Networks trained side by side from different initial weights and dropout, their
    /// logits averaged (an ensemble). The bundle stores them as one network with this many
    /// times the channels, so it costs as many times the conv weights and classify time.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().members))]
    pub members: usize,
    /// Kernel sizes of the conv branches.
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ',',
        default_values_t = TrainConfig::default().kernels))]
    pub kernels: Vec<usize>,
    /// Zero padding of each branch, in the order of --kernels.
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ',',
        default_values_t = TrainConfig::default().paddings))]
    pub paddings: Vec<usize>,
    /// Most tokens per query, special tokens included.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().max_len))]
    pub max_len: usize,
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().seed))]
    pub seed: u64,
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = TrainConfig::default().energy_loss))]
    pub energy_loss: EnergyLoss,
    /// Weight of the energy term next to cross-entropy.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().energy_weight))]
    pub energy_weight: f64,
    /// Hinge margin for known sentences: energy above it is penalized.
    #[cfg_attr(feature = "clap", arg(long, allow_hyphen_values = true,
        default_value_t = TrainConfig::default().margin_in))]
    pub margin_in: f64,
    /// Hinge margin for noise and negatives: energy below it is penalized.
    #[cfg_attr(feature = "clap", arg(long, allow_hyphen_values = true,
        default_value_t = TrainConfig::default().margin_out))]
    pub margin_out: f64,
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = TrainConfig::default().synthetic))]
    pub synthetic: SyntheticNoise,
    /// Standard deviation of --synthetic gaussian.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().noise_std))]
    pub noise_std: f32,
    /// Share of the words of 4+ letters given one random character edit, drawn afresh each
    /// step, in the known and negative training sentences (0: none).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().typo_rate))]
    pub typo_rate: f64,
    /// Typo repair at classification time (`off`: queries are read as typed).
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = TrainConfig::default().spelling))]
    pub spelling: Spelling,
    /// Label smoothing of the cross-entropy (0: none).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().label_smoothing))]
    pub label_smoothing: f64,
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = TrainConfig::default().bn_stats))]
    pub bn_stats: BnStats,
    /// How the energy threshold is chosen on the validation split.
    #[cfg_attr(feature = "clap", arg(long, value_enum,
        default_value_t = TrainConfig::default().threshold_rule))]
    pub threshold_rule: ThresholdRule,
    /// How model.safetensors stores the weights.
    #[cfg_attr(feature = "clap", arg(long, value_enum,
        default_value_t = TrainConfig::default().weights_dtype))]
    pub weights_dtype: WeightsDtype,
    /// Use this energy threshold instead of choosing one.
    #[cfg_attr(feature = "clap", arg(long, allow_hyphen_values = true))]
    pub threshold: Option<f32>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        let arch = Architecture::default();
        Self {
            epochs: 50,
            batch_size: 24,
            lr: 8e-4,
            lr_schedule: LrSchedule::Cosine,
            dropout: 0.5,
            channels: arch.channels,
            members: 1,
            kernels: arch.branches.iter().map(|b| b.kernel).collect(),
            paddings: arch.branches.iter().map(|b| b.padding).collect(),
            max_len: arch.max_len,
            seed: 42,
            energy_loss: EnergyLoss::Hinge,
            energy_weight: 0.1,
            margin_in: -8.0,
            margin_out: -2.0,
            synthetic: SyntheticNoise::Table,
            noise_std: 1.0,
            typo_rate: 0.0,
            spelling: Spelling::Repair,
            label_smoothing: 0.0,
            bn_stats: BnStats::Known,
            threshold_rule: ThresholdRule::Recall75,
            weights_dtype: WeightsDtype::Int8,
            threshold: None,
        }
    }
}

impl TrainConfig {
    pub fn architecture(&self) -> Result<Architecture> {
        if self.kernels.len() != self.paddings.len() {
            bail!(
                "--kernels has {} entries but --paddings has {}",
                self.kernels.len(),
                self.paddings.len()
            );
        }
        if self.members == 0 {
            bail!("--members must be at least 1");
        }
        // The members' branches side by side are one wider network (network.rs).
        let arch = Architecture {
            embed_dim: 0,
            channels: self.channels.saturating_mul(self.members),
            branches: self
                .kernels
                .iter()
                .zip(&self.paddings)
                .map(|(&kernel, &padding)| Branch { kernel, padding })
                .collect(),
            max_len: self.max_len,
        };
        Ok(arch)
    }
}

#[cfg(test)]
mod tests {
    use super::LrSchedule;

    #[test]
    fn cosine_schedule_falls_from_the_base_rate_to_zero() {
        let lr = |step| LrSchedule::Cosine.lr(0.1, step, 100);
        assert_eq!(lr(0), 0.1);
        assert!((lr(50) - 0.05).abs() < 1e-12);
        assert!(lr(99) > 0.0 && lr(99) < 1e-3);
        assert!(lr(100).abs() < 1e-12);
        assert!((0..100).all(|s| lr(s + 1) <= lr(s)));
        assert_eq!(LrSchedule::Constant.lr(0.1, 70, 100), 0.1);
    }

    #[test]
    fn a_page_names_the_schedule_in_its_options() {
        let config: super::TrainConfig =
            serde_json::from_str(r#"{"lr_schedule": "constant"}"#).unwrap();
        assert_eq!(config.lr_schedule, LrSchedule::Constant);
        let err = serde_json::from_str::<super::TrainConfig>(r#"{"lr_schedule": "linear"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown variant `linear`, expected `constant` or `cosine`"),
            "{err}"
        );
    }
}
