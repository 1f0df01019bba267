pub mod config;
pub mod epoch_record;
pub mod gpu_model;
pub mod node;
pub mod proposal;
pub mod provider;
pub mod region;
pub mod rental;
pub mod stake;
pub mod stake_pool;
pub mod subsidy_pool;
pub mod vote_record;

pub use config::*;
pub use epoch_record::*;
pub use gpu_model::*;
pub use node::*;
pub use proposal::*;
pub use provider::*;
pub use region::*;
pub use rental::*;
pub use stake::*;
pub use stake_pool::*;
pub use subsidy_pool::*;
pub use vote_record::*;

/// A zero-padded UTF-8 field as text (text is validated when written, so this never fails
/// on program-written data; anything else reads as empty).
pub fn fixed_str(bytes: &[u8]) -> &str {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    core::str::from_utf8(&bytes[..end]).unwrap_or("")
}

/// Writes `text` zero-padded into `field`; the caller has checked its length.
pub fn write_fixed_str(field: &mut [u8], text: &str) {
    field.fill(0);
    field[..text.len()].copy_from_slice(text.as_bytes());
}
