//! Keypair files in the Solana CLI's format (a JSON array of the 64 secret-key bytes).
use std::path::{Path, PathBuf};

use solana_keypair::Keypair;

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("keypair file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a keypair file (a JSON array of 64 bytes): {message}")]
    Format { path: PathBuf, message: String },
}

pub fn read(path: &Path) -> Result<Keypair, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.into(),
        source,
    };
    let format = |message: String| KeyFileError::Format {
        path: path.into(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(io)?;
    let bytes: Vec<u8> = serde_json::from_str(&text).map_err(|e| format(e.to_string()))?;
    Keypair::try_from(bytes.as_slice()).map_err(|e| format(e.to_string()))
}

pub fn write(path: &Path, keypair: &Keypair) -> Result<(), KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.into(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let json = serde_json::to_string(&keypair.to_bytes().to_vec()).expect("bytes serialise");
    std::fs::write(path, json).map_err(io)
}

/// The keypair at `path`, created (and saved) on first use.
pub fn read_or_create(path: &Path) -> Result<Keypair, KeyFileError> {
    if path.exists() {
        return read(path);
    }
    let keypair = Keypair::new();
    write(path, &keypair)?;
    Ok(keypair)
}
