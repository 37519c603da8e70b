//! Opening the GPU. The `cuda` build loads CUDA's libraries when a device is opened, not at
//! start-up, so one binary runs anywhere and a machine without them gets an error, not a crash.

use anyhow::{anyhow, bail, Result};
use candle_core::Device;

/// What `--device cuda` needs at run time.
const NEEDS: &str = "the NVIDIA driver's libcuda.so.1 and CUDA 13's libcublas, libcublasLt, \
                     libcurand and libnvrtc, found by the loader (e.g. through LD_LIBRARY_PATH)";

/// CUDA device `ordinal`. cudarc panics when a library or symbol is missing; that panic
/// becomes an error naming what is missing.
pub fn device(ordinal: usize) -> Result<Device> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    // The error is formatted inside too: formatting a driver error calls into the driver.
    let opened = std::panic::catch_unwind(|| Device::new_cuda(ordinal).map_err(|e| e.to_string()));
    std::panic::set_hook(hook);
    let panic = match opened {
        Ok(Ok(device)) => return Ok(device),
        Ok(Err(error)) => bail!("cannot open CUDA device {ordinal}: {error}"),
        Err(panic) => panic,
    };
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown failure");
    // cudarc: `Unable to dynamically load the "cublas" shared library - searched for ...`.
    let missing = message
        .strip_prefix("Unable to dynamically load the \"")
        .and_then(|rest| rest.split('"').next());
    Err(match missing {
        Some(lib) => {
            anyhow!("cannot open CUDA device {ordinal}: no `{lib}` library found; needs {NEEDS}")
        }
        None => anyhow!("cannot open CUDA device {ordinal}: {message}; needs {NEEDS}"),
    })
}
