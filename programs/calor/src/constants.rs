//! Seeds and protocol-wide limits.
use anchor_lang::prelude::*;

/// Seed of the singleton [`crate::state::Config`] PDA.
#[constant]
pub const CONFIG_SEED: &[u8] = b"config";

/// Basis points in one whole (100%).
#[constant]
pub const BPS_DENOMINATOR: u16 = 10_000;

/// The Calor discount can never exceed 85% of the market rate.
#[constant]
pub const MAX_CALOR_SUBSIDY_BPS: u16 = 8_500;

/// One US dollar in the program's USD unit (micro-USD).
pub const MICRO_USD_PER_USD: u64 = 1_000_000;

/// The rental minimum the protocol launches with: $5.
#[constant]
pub const DEFAULT_MIN_RENTAL_MICRO_USD: u64 = 5 * MICRO_USD_PER_USD;

/// Upper bound for every timeout and age setting (one week), so that a typo cannot lock
/// funds behind an absurd wait.
pub const MAX_DURATION_SECS: u32 = 7 * 24 * 60 * 60;
