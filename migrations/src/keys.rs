//! Keypair files in the Solana CLI's format (a JSON array of the 64 secret-key bytes).
use std::path::Path;

use anyhow::{Context, Result};
use solana_keypair::Keypair;

pub fn read(path: &Path) -> Result<Keypair> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let bytes: Vec<u8> = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a keypair file (a JSON byte array)",
            path.display()
        )
    })?;
    Keypair::try_from(bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("{}: not a valid keypair: {e}", path.display()))
}

pub fn write(path: &Path, keypair: &Keypair) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_string(&keypair.to_bytes().to_vec())?;
    std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))
}

/// The keypair at `path`, created (and saved) on first use.
pub fn read_or_create(path: &Path) -> Result<Keypair> {
    if path.exists() {
        return read(path);
    }
    let keypair = Keypair::new();
    write(path, &keypair)?;
    Ok(keypair)
}
