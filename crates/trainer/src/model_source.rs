//! Where a pretrained model's files come from: a local directory, or a Hugging Face model id
//! (`org/name`) resolved through the Hugging Face cache (`HF_HOME`, default
//! `~/.cache/huggingface`). An already-downloaded snapshot is used as is; with
//! `HF_HUB_OFFLINE=1` nothing is downloaded.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use hf_hub::{Cache, Repo};

/// A model given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelSource {
    Dir(PathBuf),
    Hub(String),
}

impl ModelSource {
    /// A directory when one exists at `spec`, else a Hugging Face id when `spec` looks like
    /// one (`org/name`), else an error naming both readings.
    pub fn parse(spec: &str) -> Result<Self> {
        let path = Path::new(spec);
        if path.is_dir() {
            return Ok(Self::Dir(path.to_path_buf()));
        }
        let parts: Vec<&str> = spec.split('/').collect();
        let id_like = parts.len() == 2
            && parts.iter().all(|p| {
                !p.is_empty()
                    && !p.starts_with('.')
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            });
        if id_like {
            Ok(Self::Hub(spec.to_string()))
        } else {
            bail!("--model {spec}: no such directory, and not a Hugging Face model id (org/name)")
        }
    }

    /// The path of `file` in this model, downloading it into the Hugging Face cache when it
    /// is not there yet and downloads are allowed.
    pub fn file(&self, file: &str) -> Result<PathBuf> {
        match self {
            Self::Dir(dir) => {
                let path = dir.join(file);
                if !path.is_file() {
                    bail!("{}: the model directory has no {file}", dir.display());
                }
                Ok(path)
            }
            Self::Hub(id) => hub_file(&Cache::from_env(), id, file, offline()),
        }
    }
}

/// `HF_HUB_OFFLINE` as the Hugging Face libraries read it.
fn offline() -> bool {
    std::env::var("HF_HUB_OFFLINE")
        .map(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "on" | "yes" | "true"))
        .unwrap_or(false)
}

/// `file` of model `id`: from `cache` when a snapshot there has it, else downloaded
/// (unless `offline`).
pub fn hub_file(cache: &Cache, id: &str, file: &str, offline: bool) -> Result<PathBuf> {
    if let Some(path) = cache.repo(Repo::model(id.to_string())).get(file) {
        return Ok(path);
    }
    if offline {
        bail!(
            "{id}: {file} is not in the Hugging Face cache at {} and HF_HUB_OFFLINE is set",
            cache.path().display()
        );
    }
    let api = hf_hub::api::sync::ApiBuilder::from_cache(cache.clone())
        .with_progress(false)
        .build()
        .context("cannot set up Hugging Face downloads")?;
    api.model(id.to_string())
        .get(file)
        .with_context(|| format!("{id}: cannot download {file} from the Hugging Face Hub"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache laid out as the Hub clients leave it: refs/main names a snapshot folder.
    fn fake_cache(root: &Path) -> Cache {
        let repo = root.join("models--acme--tiny");
        let snapshot = repo.join("snapshots/0123abcd");
        std::fs::create_dir_all(&snapshot).unwrap();
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs/main"), "0123abcd").unwrap();
        std::fs::write(snapshot.join("tokenizer.json"), "{}").unwrap();
        Cache::new(root.to_path_buf())
    }

    #[test]
    fn a_cached_snapshot_is_found_offline_and_a_missing_file_is_named() {
        let root = std::env::temp_dir().join(format!("hf-cache-{}", std::process::id()));
        let cache = fake_cache(&root);
        let found = hub_file(&cache, "acme/tiny", "tokenizer.json", true).unwrap();
        assert_eq!(
            found,
            root.join("models--acme--tiny/snapshots/0123abcd/tokenizer.json")
        );
        let err = hub_file(&cache, "acme/tiny", "model.safetensors", true)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("model.safetensors is not in the Hugging Face cache"),
            "{err}"
        );
        assert!(err.contains("HF_HUB_OFFLINE"), "{err}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn directories_win_over_ids_and_nonsense_is_refused() {
        let dir = std::env::temp_dir();
        assert_eq!(
            ModelSource::parse(dir.to_str().unwrap()).unwrap(),
            ModelSource::Dir(dir.clone())
        );
        assert_eq!(
            ModelSource::parse("intfloat/multilingual-e5-small").unwrap(),
            ModelSource::Hub("intfloat/multilingual-e5-small".into())
        );
        for bad in ["no-such-dir", "a/b/c", "../x", "a b/c"] {
            let err = ModelSource::parse(bad).err().unwrap().to_string();
            assert!(err.contains("not a Hugging Face model id"), "{bad}: {err}");
        }
    }
}
