//! One provisioner per node and per cluster id: a process holds an exclusive lock on a file
//! per node it serves and one for its cluster id, under the state directory, for as long as it
//! runs. The kernel releases the locks when the process dies (even by `kill -9`), so a restart
//! takes them back at once, while a second process for the same node or cluster id refuses to
//! start. So every instance labelled with a cluster id was made by the one live process of that
//! id or an earlier run of it, and a node's instances are drained only by a process that holds
//! (or can take) the node's lock.
//!
//! The locks are host-local: one state directory (default /var/lib/calor-provisioner) per
//! host, one engine per host.
use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use calor_client::Pubkey;

#[derive(Debug, thiserror::Error)]
pub enum FenceError {
    #[error(
        "{what} is already served by another provisioner ({holder}; lock {path}): stop it \
         first, or give this one other nodes and its own cluster_id"
    )]
    Held {
        what: String,
        holder: String,
        path: PathBuf,
    },
    #[error("lock file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The node locks this process holds.
#[derive(Debug, Default)]
pub struct NodeLocks {
    dir: PathBuf,
    held: HashMap<Pubkey, File>,
    cluster: Option<File>,
}

impl NodeLocks {
    pub fn new(state_dir: &Path) -> Self {
        Self {
            dir: state_dir.join("locks"),
            held: HashMap::new(),
            cluster: None,
        }
    }

    fn path(&self, node: &Pubkey) -> PathBuf {
        self.dir.join(format!("node-{node}.lock"))
    }

    /// Takes the lock of cluster id `cluster` for the life of the process (the id is checked
    /// to be a file-name-safe word by the config).
    pub fn acquire_cluster(&mut self, cluster: &str) -> Result<(), FenceError> {
        let path = self.dir.join(format!("cluster-{cluster}.lock"));
        let file = self.lock(&path, &format!("cluster id {cluster}"), cluster)?;
        self.cluster = Some(file);
        Ok(())
    }

    /// Takes the node's lock, or says who holds it. `cluster` is written into the file for the
    /// next reader's error message.
    pub fn acquire(&mut self, node: &Pubkey, cluster: &str) -> Result<(), FenceError> {
        if self.held.contains_key(node) {
            return Ok(());
        }
        let path = self.path(node);
        let file = self.lock(&path, &format!("node {node}"), cluster)?;
        self.held.insert(*node, file);
        Ok(())
    }

    fn lock(&self, path: &Path, what: &str, cluster: &str) -> Result<File, FenceError> {
        let path = path.to_path_buf();
        let io = |source| FenceError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path)
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "unknown process".into());
                return Err(FenceError::Held {
                    what: what.to_string(),
                    holder,
                    path,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        writeln!(file, "pid {} of cluster {cluster}", std::process::id()).map_err(io)?;
        Ok(file)
    }

    /// Whether the node's lock is free or ours; taking it when free.
    pub fn try_take(&mut self, node: &Pubkey, cluster: &str) -> bool {
        self.acquire(node, cluster).is_ok()
    }

    /// Lets a node go (after draining it).
    pub fn release(&mut self, node: &Pubkey) {
        self.held.remove(node);
    }

    pub fn holds(&self, node: &Pubkey) -> bool {
        self.held.contains_key(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_locked_once_and_freed_on_release() {
        let dir = std::env::temp_dir().join(format!("calor-fence-{}", std::process::id()));
        let node = Pubkey::new_unique();
        let mut first = NodeLocks::new(&dir);
        first.acquire(&node, "a").unwrap();
        first.acquire(&node, "a").unwrap();
        // a second holder (another open file description, as another process would have)
        let mut second = NodeLocks::new(&dir);
        let err = second.acquire(&node, "b").unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("pid {} of cluster a", std::process::id())),
            "{err}"
        );
        assert!(!second.try_take(&node, "b"));
        first.release(&node);
        assert!(second.try_take(&node, "b"));
        assert!(second.holds(&node));
        first.acquire_cluster("a").unwrap();
        let err = second.acquire_cluster("a").unwrap_err();
        assert!(err.to_string().contains("cluster id a"), "{err}");
        second.acquire_cluster("b").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
