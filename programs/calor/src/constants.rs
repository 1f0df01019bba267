//! Seeds and protocol-wide limits.
use anchor_lang::prelude::*;

/// Seed of the singleton [`crate::state::Config`] PDA.
#[constant]
pub const CONFIG_SEED: &[u8] = b"config";
/// `[GPU_MODEL_SEED, id (u16 LE)]`
#[constant]
pub const GPU_MODEL_SEED: &[u8] = b"gpu_model";
/// `[REGION_SEED, id (u16 LE)]`
#[constant]
pub const REGION_SEED: &[u8] = b"region";
/// `[PROVIDER_SEED, operator authority]`
#[constant]
pub const PROVIDER_SEED: &[u8] = b"provider";
/// `[NODE_SEED, provider PDA, index (u32 LE)]`
#[constant]
pub const NODE_SEED: &[u8] = b"node";
/// `[RENTAL_SEED, renter, id (u64 LE)]`
#[constant]
pub const RENTAL_SEED: &[u8] = b"rental";
/// `[ESCROW_SEED, rental PDA]`: the Calor token account a rental's tokens wait in.
#[constant]
pub const ESCROW_SEED: &[u8] = b"escrow";

/// Seed of the singleton [`crate::state::StakePool`] PDA.
#[constant]
pub const STAKE_POOL_SEED: &[u8] = b"stake_pool";
/// `[STAKE_VAULT_SEED]`: the token account holding all staked Calor, owned by the pool.
#[constant]
pub const STAKE_VAULT_SEED: &[u8] = b"stake_vault";
/// `[REWARDS_VAULT_SEED]`: the token account Calor protocol fees flow into for stakers.
#[constant]
pub const REWARDS_VAULT_SEED: &[u8] = b"rewards_vault";
/// `[STAKE_SEED, owner]`
#[constant]
pub const STAKE_SEED: &[u8] = b"stake";
/// `[EPOCH_SEED, epoch (u64 LE)]`: the reward accumulator at an epoch's end.
#[constant]
pub const EPOCH_SEED: &[u8] = b"epoch";
/// `[PROPOSAL_SEED, id (u64 LE)]`
#[constant]
pub const PROPOSAL_SEED: &[u8] = b"proposal";
/// `[VOTE_SEED, proposal, voter]`
#[constant]
pub const VOTE_SEED: &[u8] = b"vote";
/// Seed of the singleton [`crate::state::SubsidyPool`] PDA.
#[constant]
pub const SUBSIDY_POOL_SEED: &[u8] = b"subsidy_pool";
/// `[SUBSIDY_VAULT_SEED]`: the protocol's Calor (subsidies out, the treasury's fee share in),
/// owned by the subsidy pool.
#[constant]
pub const SUBSIDY_VAULT_SEED: &[u8] = b"subsidy_vault";

/// Basis points in one whole (100%).
#[constant]
pub const BPS_DENOMINATOR: u16 = 10_000;

/// The Calor discount can never exceed 85% of the market rate.
#[constant]
pub const MAX_CALOR_SUBSIDY_BPS: u16 = 8_500;

/// One US dollar in the program's USD unit (micro-USD).
#[constant]
pub const MICRO_USD_PER_USD: u64 = 1_000_000;

/// The rental minimum the protocol launches with: $5.
#[constant]
pub const DEFAULT_MIN_RENTAL_MICRO_USD: u64 = 5 * MICRO_USD_PER_USD;

/// Upper bound for every timeout and age setting (one week), so that a typo cannot lock
/// funds behind an absurd wait.
pub const MAX_DURATION_SECS: u32 = 7 * 24 * 60 * 60;

/// A rental (including extensions) lasts at most 90 days.
#[constant]
pub const MAX_RENTAL_HOURS: u32 = 90 * 24;

pub const SECS_PER_HOUR: u32 = 3_600;

/// An epoch or a voting period lasts at most 30 days.
pub const MAX_PERIOD_SECS: u32 = 30 * 24 * 60 * 60;

/// Stake thresholds for routing priority 1, 2 and 3 (0 is everyone else).
pub const PRIORITY_TIERS: usize = 3;

/// Bounded strings (in bytes) keep every account's size, and so its rent, fixed.
pub const MAX_NAME_LEN: usize = 32;
pub const MAX_SHORT_LEN: usize = 16;
pub const MAX_ENDPOINT_LEN: usize = 64;
/// The longest public key line accepted at open: an `ssh-rsa` 3072-bit key (≈ 550 bytes)
/// with a comment (a 4096-bit one does not fit a transaction beside the open's accounts).
/// Only its SHA-256 is stored; the line itself stays in the opening transaction, where the
/// provisioner reads it.
#[constant]
pub const MAX_SSH_KEY_LEN: u32 = 640;

/// How many purchases (the open and its extensions) one rental can hold: each is settled
/// at its own price. (usize: not exported to the IDL, where the array lengths show it.)
pub const MAX_PURCHASES: usize = 6;

/// Ports a rental may ask to have forwarded, besides SSH.
pub const MAX_FORWARDED_PORTS: usize = 5;
/// Served by the instance's sshd; never a forwarded port.
#[constant]
pub const SSH_PORT: u16 = 22;

/// How far in the future a Pyth price's publish time may be (clock skew between Pythnet and
/// Solana); beyond it the update is refused.
#[constant]
pub const MAX_PRICE_FUTURE_SKEW_SECS: i64 = 10;

/// Stake counts for governance and routing priority only once it has been active for a whole
/// epoch: deposited in epoch `e`, it is active from `e + 1` and seasoned from `e + 2`.
#[constant]
pub const SEASONING_EPOCHS: u64 = 2;

/// Marks a rental without a location hint (`near_latitude_deg`/`near_longitude_deg`).
#[constant]
pub const NO_LOCATION: i16 = i16::MIN;

/// Largest |exponent| accepted from the oracle (Pyth uses -8 for SOL/USD).
#[constant]
pub const MAX_ORACLE_EXPONENT: i32 = 18;
