//! A pre-trained body: the conv filters and BatchNorm of a network trained on other intents
//! over the same token table. A new model starts from it instead of from random filters, so
//! a handful of sentences per intent only has to teach the head which n-gram detectors
//! matter (and nudge the detectors). The head is never carried over: the labels differ.
//!
//! One safetensors file (`body.safetensors`): `conv{i}.weight` F32 [channels, embed_dim,
//! kernel] per branch, `bn.gamma`, `bn.beta`, `bn.running_mean`, `bn.running_var` F32
//! [features]; metadata `format`, `architecture` (JSON), `table_sha256` and `trained_on`.

use std::collections::HashMap;

use anyhow::{bail, Context, Result};
use candle_core::{Tensor, Var};
use model::bundle::{f32_bytes, read_f32, serialize_tensors};
use model::Architecture;
use safetensors::{Dtype, SafeTensors};

use crate::network::Network;

pub const BODY_FILE: &str = "body.safetensors";
/// Value of the file's `format` metadata key.
pub const BODY_FORMAT: &str = "textcnn-body-1";

/// The conv and BatchNorm state of a trained network, and what it fits.
#[derive(Clone, Debug, PartialEq)]
pub struct Body {
    pub arch: Architecture,
    /// sha256 of the table.safetensors the filters were trained over.
    pub table_sha256: String,
    /// The data it was trained on, for the model card.
    pub trained_on: String,
    /// Keep the conv filters as they are (train BatchNorm and the head only).
    pub frozen: bool,
    /// Per branch, [channels, embed_dim, kernel] flattened.
    conv_weights: Vec<Vec<f32>>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    running_mean: Vec<f32>,
    running_var: Vec<f32>,
}

fn values(t: &Tensor) -> Result<Vec<f32>> {
    Ok(t.flatten_all()?.to_vec1::<f32>()?)
}

impl Body {
    /// The body of a trained `network`.
    pub fn of(network: &Network, table_sha256: &str, trained_on: &str) -> Result<Self> {
        Ok(Self {
            arch: network.arch.clone(),
            table_sha256: table_sha256.to_string(),
            trained_on: trained_on.to_string(),
            frozen: false,
            conv_weights: network
                .conv_weights
                .iter()
                .map(|w| values(w.as_tensor()))
                .collect::<Result<_>>()?,
            gamma: values(network.bn_gamma.as_tensor())?,
            beta: values(network.bn_beta.as_tensor())?,
            running_mean: values(&network.running_mean)?,
            running_var: values(&network.running_var)?,
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let (c, d, f) = (
            self.arch.channels,
            self.arch.embed_dim,
            self.arch.features(),
        );
        let mut tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = self
            .conv_weights
            .iter()
            .zip(&self.arch.branches)
            .enumerate()
            .map(|(i, (w, b))| {
                let shape = vec![c, d, b.kernel];
                (format!("conv{i}.weight"), Dtype::F32, shape, f32_bytes(w))
            })
            .collect();
        for (name, v) in [
            ("bn.gamma", &self.gamma),
            ("bn.beta", &self.beta),
            ("bn.running_mean", &self.running_mean),
            ("bn.running_var", &self.running_var),
        ] {
            tensors.push((name.into(), Dtype::F32, vec![f], f32_bytes(v)));
        }
        let metadata = HashMap::from([
            ("format".to_string(), BODY_FORMAT.to_string()),
            (
                "architecture".to_string(),
                serde_json::to_string(&self.arch).expect("an architecture serializes"),
            ),
            ("table_sha256".to_string(), self.table_sha256.clone()),
            ("trained_on".to_string(), self.trained_on.clone()),
        ]);
        serialize_tensors(tensors, metadata)
    }

    /// Parses a body file; `source` names it in errors.
    pub fn parse(bytes: &[u8], source: &str) -> Result<Self> {
        let what = |e: &dyn std::fmt::Display| format!("{source}: {e}");
        let (_, header) =
            SafeTensors::read_metadata(bytes).map_err(|e| anyhow::anyhow!(what(&e)))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let get = |key: &str| {
            meta.get(key)
                .cloned()
                .with_context(|| what(&format!("metadata key `{key}` is missing")))
        };
        let format = get("format")?;
        if format != BODY_FORMAT {
            bail!(what(&format!(
                "format is `{format}`, expected `{BODY_FORMAT}` (write a body with `trainer \
                 train --save-body`)"
            )));
        }
        let arch: Architecture = serde_json::from_str(&get("architecture")?)
            .map_err(|e| anyhow::anyhow!(what(&format!("metadata `architecture`: {e}"))))?;
        arch.validate()
            .map_err(|e| anyhow::anyhow!(what(&format!("architecture: {e}"))))?;
        let st = SafeTensors::deserialize(bytes).map_err(|e| anyhow::anyhow!(what(&e)))?;
        let (c, d, f) = (arch.channels, arch.embed_dim, arch.features());
        let read = |name: &str, shape: &[usize]| {
            read_f32(&st, source, name, shape).map_err(|e| anyhow::anyhow!("{e}"))
        };
        let conv_weights = arch
            .branches
            .iter()
            .enumerate()
            .map(|(i, b)| read(&format!("conv{i}.weight"), &[c, d, b.kernel]))
            .collect::<Result<_>>()?;
        let running_var = read("bn.running_var", &[f])?;
        if running_var.iter().any(|&v| v < 0.0) {
            bail!(what(&"bn.running_var holds a negative variance"));
        }
        Ok(Self {
            table_sha256: get("table_sha256")?,
            trained_on: get("trained_on")?,
            frozen: false,
            conv_weights,
            gamma: read("bn.gamma", &[f])?,
            beta: read("bn.beta", &[f])?,
            running_mean: read("bn.running_mean", &[f])?,
            running_var,
            arch,
        })
    }

    /// Copies the body into a freshly built `network`, refusing one of another shape or
    /// table: its filters would read rows they were never trained on.
    pub fn apply(&self, network: &mut Network, table_sha256: &str) -> Result<()> {
        if self.arch != network.arch {
            bail!(
                "the pre-trained body is for the shape {}, this run's is {} (same --channels, \
                 --kernels, --paddings and --max-len as the body's run)",
                serde_json::to_string(&self.arch)?,
                serde_json::to_string(&network.arch)?
            );
        }
        if self.table_sha256 != table_sha256 {
            bail!(
                "the pre-trained body was trained over another table.safetensors (sha256 differs)"
            );
        }
        let device = network.device.clone();
        for (var, w) in network.conv_weights.iter().zip(&self.conv_weights) {
            var.set(&Tensor::from_slice(w, var.shape(), &device)?)?;
        }
        let f = network.arch.features();
        let set = |var: &Var, v: &[f32]| var.set(&Tensor::from_slice(v, f, &device)?);
        set(&network.bn_gamma, &self.gamma)?;
        set(&network.bn_beta, &self.beta)?;
        network.running_mean = Tensor::from_slice(&self.running_mean, f, &device)?;
        network.running_var = Tensor::from_slice(&self.running_var, f, &device)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn small_arch() -> Architecture {
        Architecture {
            embed_dim: 8,
            channels: 4,
            ..Architecture::default()
        }
    }

    #[test]
    fn a_body_round_trips_and_carries_over_everything_but_the_head() {
        let arch = small_arch();
        let trained = Network::new(&arch, 3, 1, &Device::Cpu).unwrap();
        let body = Body::of(&trained, "abc", "data.json").unwrap();
        let parsed = Body::parse(&body.to_bytes(), "body.safetensors").unwrap();
        assert_eq!(parsed, body);

        let mut fresh = Network::new(&arch, 5, 2, &Device::Cpu).unwrap();
        let head_before = values(fresh.classifier_weight.as_tensor()).unwrap();
        parsed.apply(&mut fresh, "abc").unwrap();
        for (a, b) in fresh.conv_weights.iter().zip(&trained.conv_weights) {
            assert_eq!(
                values(a.as_tensor()).unwrap(),
                values(b.as_tensor()).unwrap()
            );
        }
        assert_eq!(
            values(fresh.classifier_weight.as_tensor()).unwrap(),
            head_before
        );
    }

    #[test]
    fn another_shape_table_or_file_is_refused_by_name() {
        let trained = Network::new(&small_arch(), 3, 1, &Device::Cpu).unwrap();
        let body = Body::of(&trained, "abc", "data.json").unwrap();
        let wider = Architecture {
            channels: 6,
            ..small_arch()
        };
        let mut other = Network::new(&wider, 3, 1, &Device::Cpu).unwrap();
        let err = body.apply(&mut other, "abc").unwrap_err().to_string();
        assert!(err.contains("--channels"), "{err}");
        let mut same = Network::new(&small_arch(), 3, 1, &Device::Cpu).unwrap();
        let err = body.apply(&mut same, "def").unwrap_err().to_string();
        assert!(err.contains("another table"), "{err}");
        let err = Body::parse(b"not safetensors", "x/body.safetensors")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("x/body.safetensors"), "{err}");
    }
}
