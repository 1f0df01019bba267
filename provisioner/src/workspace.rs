//! Each rental's `/workspace` is its own filesystem of a fixed size: an ext4 image file under
//! the provisioner's workspace directory, fully allocated when created (so tenants' quotas can
//! never add up to more than the host's disk), which the engine mounts through a loop device
//! when the instance starts (a `local` volume with `type=ext4`, `device=<image>`, `o=loop`).
//! A tenant who fills it gets ENOSPC from its own filesystem; the host's disk is untouched.
//!
//! Podman mounts such volumes with mount(8), which sets up the loop device (and frees it when
//! the instance stops). The kernels these tests run on have no XFS project quotas, so neither
//! engine can cap a directory on a shared filesystem here; an image file per rental needs none.
use std::path::{Path, PathBuf};
use std::process::Command;

use calor_client::Pubkey;

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("workspace directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot reserve {size_mib} MiB for a workspace in {dir}: {reason} (the host's disk is \
         not overcommitted: free space, or lower workspace_mib)"
    )]
    NoSpace {
        dir: PathBuf,
        size_mib: u64,
        reason: String,
    },
    #[error("mkfs.ext4 failed for {path}: {reason}")]
    Format { path: PathBuf, reason: String },
}

/// Where workspace images live, one per rental.
#[derive(Debug, Clone)]
pub struct Workspaces {
    dir: PathBuf,
}

impl Workspaces {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn image(&self, rental: &Pubkey) -> PathBuf {
        self.dir.join(format!("{rental}.ext4"))
    }

    /// Creates the rental's image of `size_mib` unless it exists (a recreated instance keeps
    /// its files). Written under a temporary name and renamed, so a crash never leaves a
    /// half-made image behind the real name.
    pub fn ensure(&self, rental: &Pubkey, size_mib: u64) -> Result<PathBuf, WorkspaceError> {
        let image = self.image(rental);
        if image.exists() {
            return Ok(image);
        }
        let io = |source| WorkspaceError::Io {
            path: self.dir.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let partial = self.dir.join(format!("{rental}.ext4.partial"));
        let _ = std::fs::remove_file(&partial);
        let bytes = size_mib * 1024 * 1024;
        let reserved = Command::new("fallocate")
            .arg("-l")
            .arg(bytes.to_string())
            .arg(&partial)
            .output()
            .map_err(io)?;
        if !reserved.status.success() {
            let _ = std::fs::remove_file(&partial);
            return Err(WorkspaceError::NoSpace {
                dir: self.dir.clone(),
                size_mib,
                reason: String::from_utf8_lossy(&reserved.stderr).trim().to_string(),
            });
        }
        // nodiscard: mkfs would otherwise punch holes in the reserved blocks
        let formatted = Command::new("mkfs.ext4")
            .args(["-q", "-F", "-E", "nodiscard", "-m", "0", "-L", "workspace"])
            .arg(&partial)
            .output()
            .map_err(io)?;
        if !formatted.status.success() {
            let _ = std::fs::remove_file(&partial);
            return Err(WorkspaceError::Format {
                path: image,
                reason: String::from_utf8_lossy(&formatted.stderr)
                    .trim()
                    .to_string(),
            });
        }
        std::fs::rename(&partial, &image).map_err(io)?;
        Ok(image)
    }

    /// Deletes the rental's image; nothing to delete is not an error.
    pub fn remove(&self, rental: &Pubkey) -> Result<(), WorkspaceError> {
        for path in [
            self.image(rental),
            self.dir.join(format!("{rental}.ext4.partial")),
        ] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(WorkspaceError::Io { path, source }),
            }
        }
        Ok(())
    }

    /// The rentals that have an image here.
    pub fn list(&self) -> Vec<Pubkey> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let stem = name
                    .strip_suffix(".ext4")
                    .or_else(|| name.strip_suffix(".ext4.partial"))?;
                stem.parse().ok()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_is_reserved_formatted_kept_and_removed() {
        let dir = std::env::temp_dir().join(format!("calor-ws-test-{}", std::process::id()));
        let workspaces = Workspaces::new(&dir);
        let rental = Pubkey::new_unique();
        let image = workspaces.ensure(&rental, 16).unwrap();
        let meta = std::fs::metadata(&image).unwrap();
        assert_eq!(meta.len(), 16 * 1024 * 1024);
        {
            use std::os::unix::fs::MetadataExt;
            // fully allocated: the quota is backed by real blocks
            assert!(
                meta.blocks() * 512 >= 15 * 1024 * 1024,
                "{} blocks",
                meta.blocks()
            );
        }
        std::fs::write(dir.join("not-a-workspace"), b"x").unwrap();
        assert_eq!(workspaces.list(), vec![rental]);
        assert_eq!(
            workspaces.ensure(&rental, 32).unwrap(),
            image,
            "kept as it is"
        );
        workspaces.remove(&rental).unwrap();
        workspaces.remove(&rental).unwrap();
        assert!(workspaces.list().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
