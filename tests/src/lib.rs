//! Test harness: runs the real `target/deploy/calor.so` (SBPF v3) inside LiteSVM (agave 4.3
//! runtime) with helpers to fund keypairs, warp the clock, create SPL mints and token
//! accounts, write Pyth `PriceUpdateV2` accounts, decode accounts and report compute units.
//!
//! Types: Anchor 1.2.2's `Pubkey` (solana-pubkey 3.0) re-exports solana-address 2.x, the
//! same `Address` litesvm 0.17 uses, so keys and instructions cross without conversion.
/// The launch catalog lives in the client crate, shared with `migrations/`.
pub use calor_client::catalog;
pub mod env;
pub mod fixtures;
pub mod market;
pub mod outcome;
pub mod pyth;
pub mod rng;
pub mod spl;
pub mod staking;

pub use env::TestEnv;
pub use outcome::{Failure, Outcome, Success};
