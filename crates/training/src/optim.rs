//! AdamW (Loshchilov & Hutter 2019) with its moments in the open, so a checkpoint can save
//! and restore them: candle-nn's `AdamW` keeps them private, and a resumed run that starts
//! from zero moments does not continue the same trajectory.

use anyhow::{ensure, Result};
use candle_core::{backprop::GradStore, Tensor, Var};

pub struct AdamW {
    vars: Vec<Var>,
    /// First and second moment of each variable's gradient, in the order of `vars`.
    pub first_moments: Vec<Tensor>,
    pub second_moments: Vec<Tensor>,
    /// Steps taken so far (the bias correction depends on it).
    pub steps: usize,
    pub lr: f64,
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
}

impl AdamW {
    pub fn new(vars: Vec<Var>, lr: f64, weight_decay: f64) -> Result<Self> {
        let zeros = |v: &Var| v.as_tensor().zeros_like();
        Ok(Self {
            first_moments: vars.iter().map(zeros).collect::<candle_core::Result<_>>()?,
            second_moments: vars.iter().map(zeros).collect::<candle_core::Result<_>>()?,
            vars,
            steps: 0,
            lr,
            weight_decay,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        })
    }

    pub fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        let grads = loss.backward()?;
        self.step(&grads)
    }

    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.steps += 1;
        let t = self.steps as i32;
        let m_correction = 1.0 / (1.0 - self.beta1.powi(t));
        let v_correction = 1.0 / (1.0 - self.beta2.powi(t));
        for (i, var) in self.vars.iter().enumerate() {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            let m = ((&self.first_moments[i] * self.beta1)? + (g * (1.0 - self.beta1))?)?;
            let v = ((&self.second_moments[i] * self.beta2)? + (g.sqr()? * (1.0 - self.beta2))?)?;
            let update = ((&m * m_correction)? / ((&v * v_correction)?.sqrt()? + self.eps)?)?;
            let decayed = (var.as_tensor() * (1.0 - self.lr * self.weight_decay))?;
            var.set(&(decayed - (update * self.lr)?)?)?;
            self.first_moments[i] = m;
            self.second_moments[i] = v;
        }
        Ok(())
    }

    /// Restores moments and step count saved from an optimizer over the same variables.
    pub fn restore(&mut self, first: Vec<Tensor>, second: Vec<Tensor>, steps: usize) -> Result<()> {
        ensure!(
            first.len() == self.vars.len() && second.len() == self.vars.len(),
            "the checkpoint has moments for {} variables, the network has {}",
            first.len(),
            self.vars.len()
        );
        for ((var, m), v) in self.vars.iter().zip(&first).zip(&second) {
            ensure!(
                m.shape() == var.shape() && v.shape() == var.shape(),
                "optimizer moment of shape {:?} for a variable of shape {:?}",
                m.dims(),
                var.dims()
            );
        }
        self.first_moments = first;
        self.second_moments = second;
        self.steps = steps;
        Ok(())
    }
}
