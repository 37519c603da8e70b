//! One error type for everything that can be wrong with a bundle: it names the file and
//! says what is wrong there.

/// A bundle file that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct BundleError {
    pub file: String,
    pub problem: String,
}

impl BundleError {
    pub fn new(file: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            problem: problem.into(),
        }
    }
}
