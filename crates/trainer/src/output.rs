//! Writing output directories so that a reader sees the old one, or the complete new one,
//! never a half-written one: files go to a temporary sibling, which is renamed into place.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

fn parent_and_name(dir: &Path) -> (PathBuf, String) {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    (parent, name)
}

/// The temporary sibling that this process writes `dir`'s files to.
pub fn staging_dir(dir: &Path) -> PathBuf {
    let (parent, name) = parent_and_name(dir);
    parent.join(format!(".{name}.partial-{}", std::process::id()))
}

pub fn write_dir_atomically(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<()> {
    let (parent, name) = parent_and_name(dir);
    if name.is_empty() {
        bail!("{}: output path has no directory name", dir.display());
    }
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = staging_dir(dir);
    let _ = std::fs::remove_dir_all(&staging);
    let written = fill_and_swap(dir, &parent, &name, &staging, files);
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    written
}

fn fill_and_swap(
    dir: &Path,
    parent: &Path,
    name: &str,
    staging: &Path,
    files: &[(&str, Vec<u8>)],
) -> Result<()> {
    std::fs::create_dir_all(staging)
        .with_context(|| format!("cannot create {}", staging.display()))?;
    for (file, bytes) in files {
        let path = staging.join(file);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        std::fs::File::open(&path)?.sync_all()?;
    }
    let previous = parent.join(format!(".{name}.previous-{}", std::process::id()));
    let had_previous = dir.exists();
    if had_previous {
        std::fs::rename(dir, &previous)
            .with_context(|| format!("cannot move {} aside", dir.display()))?;
    }
    std::fs::rename(staging, dir)
        .with_context(|| format!("cannot move {} into place", dir.display()))?;
    if had_previous {
        let _ = std::fs::remove_dir_all(&previous);
    }
    Ok(())
}

/// One file, written to a temporary sibling, synced and renamed into place.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut staging = path.as_os_str().to_owned();
    staging.push(format!(".partial-{}", std::process::id()));
    let staging = std::path::PathBuf::from(staging);
    std::fs::write(&staging, bytes)
        .with_context(|| format!("cannot write {}", staging.display()))?;
    std::fs::File::open(&staging)?.sync_all()?;
    std::fs::rename(&staging, path)
        .with_context(|| format!("cannot move {} into place", path.display()))
}
