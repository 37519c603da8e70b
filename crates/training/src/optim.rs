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
        for i in 0..self.vars.len() {
            let var = self.vars[i].clone();
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            if var.device().is_cpu() {
                self.step_cpu(i, g, m_correction, v_correction)?;
                continue;
            }
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

    /// One variable's update in a single pass over plain vectors: on the CPU, the tensor
    /// ops above cost more in allocation and dispatch than in arithmetic. The same formula.
    fn step_cpu(
        &mut self,
        i: usize,
        grad: &Tensor,
        m_correction: f64,
        v_correction: f64,
    ) -> Result<()> {
        let var = &self.vars[i];
        let (shape, device) = (var.shape().clone(), var.device().clone());
        let values = |t: &Tensor| t.flatten_all()?.to_vec1::<f32>();
        let grad = values(grad)?;
        let mut m = values(&self.first_moments[i])?;
        let mut v = values(&self.second_moments[i])?;
        let mut w = values(var.as_tensor())?;
        let (beta1, beta2) = (self.beta1 as f32, self.beta2 as f32);
        let (one_minus_beta1, one_minus_beta2) =
            ((1.0 - self.beta1) as f32, (1.0 - self.beta2) as f32);
        let (m_correction, v_correction) = (m_correction as f32, v_correction as f32);
        let (eps, lr, decay) = (
            self.eps as f32,
            self.lr as f32,
            (1.0 - self.lr * self.weight_decay) as f32,
        );
        for (((w, m), v), &g) in w.iter_mut().zip(&mut m).zip(&mut v).zip(&grad) {
            *m = *m * beta1 + g * one_minus_beta1;
            *v = *v * beta2 + g * g * one_minus_beta2;
            let update = (*m * m_correction) / ((*v * v_correction).sqrt() + eps);
            *w = *w * decay - update * lr;
        }
        var.set(&Tensor::from_vec(w, &shape, &device)?)?;
        self.first_moments[i] = Tensor::from_vec(m, &shape, &device)?;
        self.second_moments[i] = Tensor::from_vec(v, &shape, &device)?;
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
