//! Stopping a training run on SIGTERM or SIGINT. [`install`] makes the first signal set a
//! flag that the training loop polls at each step boundary ([`requested`]); it then ends with
//! [`Interrupted`], which `main` turns into exit status 128 + signal (130, 143). A second
//! signal exits at once, with 128 + its number. A SIGINT inherited as ignored (a background
//! shell, `nohup`) stays ignored, as Unix programs do.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM};

/// The first signal received (0: none).
static RECEIVED: AtomicUsize = AtomicUsize::new(0);
/// Signals received so far: the first asks for a stop, any later one exits at once.
static COUNT: AtomicUsize = AtomicUsize::new(0);

/// Handles SIGTERM, and SIGINT unless it was inherited as ignored. Returns whether SIGINT is
/// handled.
pub fn install() -> Result<bool> {
    let sigint = !inherited_as_ignored(SIGINT);
    let signals: &[i32] = if sigint {
        &[SIGTERM, SIGINT]
    } else {
        &[SIGTERM]
    };
    for &signal in signals {
        // SAFETY: the action uses only atomics and `_exit`, which are async-signal-safe.
        unsafe {
            signal_hook::low_level::register(signal, move || {
                // One atomic step decides which signal came first, even when two arrive at
                // once on different threads (each would otherwise see "none yet").
                if COUNT.fetch_add(1, Ordering::SeqCst) > 0 {
                    signal_hook::low_level::exit(128 + signal);
                }
                RECEIVED.store(signal as usize, Ordering::SeqCst);
            })
        }
        .with_context(|| format!("cannot handle {}", signal_name(signal)))?;
    }
    Ok(sigint)
}

/// The signal that asked the run to stop, if one did.
pub fn requested() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal as i32),
    }
}

/// Ok, or the [`Interrupted`] error when a signal asked the run to stop; `stopped_at` says
/// where ("during epoch 3 of 50").
pub fn check(stopped_at: impl FnOnce() -> String) -> Result<()> {
    match requested() {
        None => Ok(()),
        Some(signal) => Err(Interrupted {
            signal,
            stopped_at: stopped_at(),
            output: String::new(),
        }
        .into()),
    }
}

/// For an [`Interrupted`] error: removes the bundle's temporary directory if there is one
/// and notes what became of `out`. Other errors pass unchanged.
pub fn with_output_cleaned(error: anyhow::Error, out: &Path) -> anyhow::Error {
    let mut interrupted = match error.downcast::<Interrupted>() {
        Ok(interrupted) => interrupted,
        Err(other) => return other,
    };
    let staging = crate::output::staging_dir(out);
    let removed = staging.exists() && std::fs::remove_dir_all(&staging).is_ok();
    interrupted.output = format!(
        "{}no bundle written, {} {}",
        if removed {
            format!("removed the partial {}; ", staging.display())
        } else {
            String::new()
        },
        out.display(),
        if out.exists() {
            "is as it was"
        } else {
            "does not exist"
        }
    );
    interrupted.into()
}

/// A run stopped by a signal; `main` prints it and exits with [`Interrupted::exit_code`].
#[derive(Debug)]
pub struct Interrupted {
    pub signal: i32,
    pub stopped_at: String,
    /// What became of the output directory.
    pub output: String,
}

impl Interrupted {
    pub fn exit_code(&self) -> i32 {
        128 + self.signal
    }
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: training stopped {}",
            signal_name(self.signal),
            self.stopped_at
        )?;
        if !self.output.is_empty() {
            write!(f, "; {}", self.output)?;
        }
        Ok(())
    }
}

impl std::error::Error for Interrupted {}

pub fn signal_name(signal: i32) -> &'static str {
    signal_hook::low_level::signal_name(signal).unwrap_or("signal")
}

#[cfg(unix)]
fn inherited_as_ignored(signal: i32) -> bool {
    // SAFETY: a null new action only reads the current one into `current`.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut current) == 0
            && current.sa_sigaction == libc::SIG_IGN
    }
}

#[cfg(not(unix))]
fn inherited_as_ignored(_signal: i32) -> bool {
    false
}
