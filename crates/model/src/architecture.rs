//! The TextCNN's shape: parallel Conv1d branches over token-table rows, each followed by
//! BatchNorm, ReLU and a global max-pool, concatenated into one feature vector.

use serde::{Deserialize, Serialize};

/// One Conv1d branch: `kernel` taps, `padding` zero rows on each side of the sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    pub kernel: usize,
    pub padding: usize,
}

/// Every number that fixes the network's tensor shapes. Stored in the bundle, so the
/// browser builds exactly the network the trainer trained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Architecture {
    /// Width of one token-table row (the PCA dimension).
    pub embed_dim: usize,
    /// Output channels of each branch.
    pub channels: usize,
    pub branches: Vec<Branch>,
    /// Most tokens a query keeps, special tokens included.
    pub max_len: usize,
}

impl Default for Architecture {
    fn default() -> Self {
        Self {
            embed_dim: 128,
            channels: 128,
            branches: vec![
                Branch {
                    kernel: 3,
                    padding: 1,
                },
                Branch {
                    kernel: 4,
                    padding: 1,
                },
                Branch {
                    kernel: 5,
                    padding: 2,
                },
            ],
            max_len: 64,
        }
    }
}

impl Architecture {
    /// Length of the concatenated pooled feature vector.
    pub fn features(&self) -> usize {
        self.channels * self.branches.len()
    }

    /// Largest padding of any branch: all branches read one shared zero-padded buffer.
    pub fn max_padding(&self) -> usize {
        self.branches.iter().map(|b| b.padding).max().unwrap_or(0)
    }

    /// Shortest sequence every branch can pool over (at least one output position):
    /// a kernel-4/padding-1 branch needs two rows, so shorter queries are zero-extended.
    pub fn min_len(&self) -> usize {
        self.branches
            .iter()
            .map(|b| b.kernel.saturating_sub(2 * b.padding))
            .max()
            .unwrap_or(1)
            .max(1)
    }

    /// Sequence length the network actually convolves for `tokens` tokens.
    pub fn effective_len(&self, tokens: usize) -> usize {
        tokens.clamp(self.min_len(), self.max_len.max(self.min_len()))
    }

    /// Output positions of `branch` over a sequence of `len` rows (len >= min_len).
    pub fn output_len(&self, branch: Branch, len: usize) -> usize {
        (len + 2 * branch.padding + 1).saturating_sub(branch.kernel)
    }

    /// Checks the numbers make a network; `Err` says which one does not.
    pub fn validate(&self) -> Result<(), String> {
        if self.embed_dim == 0 || self.channels == 0 || self.max_len == 0 {
            return Err("embed_dim, channels and max_len must be positive".into());
        }
        if self.branches.is_empty() {
            return Err("at least one branch is needed".into());
        }
        for b in &self.branches {
            if b.kernel == 0 || b.kernel > 16 || b.padding >= b.kernel {
                return Err(format!(
                    "branch kernel {} padding {}: need 0 < kernel <= 16 and padding < kernel",
                    b.kernel, b.padding
                ));
            }
        }
        if self.max_len > 4096 || self.embed_dim > 4096 || self.channels > 4096 {
            return Err("embed_dim, channels and max_len must be at most 4096".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_shape() {
        let a = Architecture::default();
        assert_eq!(a.features(), 384);
        assert_eq!(a.min_len(), 2);
        let lens: Vec<usize> = a.branches.iter().map(|&b| a.output_len(b, 10)).collect();
        assert_eq!(lens, vec![10, 9, 10]);
        assert_eq!(a.effective_len(1), 2);
        assert_eq!(a.effective_len(500), 64);
    }
}
