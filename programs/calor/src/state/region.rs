use anchor_lang::prelude::*;

use crate::constants::{MAX_NAME_LEN, MAX_SHORT_LEN};

/// A place GPUs run. PDA: `[REGION_SEED, id]`.
#[account]
#[derive(InitSpace, Debug)]
pub struct Region {
    pub id: u16,
    /// e.g. "US East (Ohio)"
    #[max_len(MAX_NAME_LEN)]
    pub name: String,
    /// e.g. "us-east"
    #[max_len(MAX_SHORT_LEN)]
    pub code: String,
    /// Location in micro-degrees, so provisioners can route unpinned work to the nearest
    /// cluster from chain state alone.
    pub latitude_micro_deg: i32,
    pub longitude_micro_deg: i32,
    pub active: bool,
    pub bump: u8,
}
