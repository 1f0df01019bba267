use anchor_lang::prelude::*;

use crate::constants::{MAX_NAME_LEN, MAX_SHORT_LEN};

/// A place GPUs run. PDA: `[REGION_SEED, id]`. Zero-copy: pinned opens read it.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Region {
    /// e.g. "US East (Ohio)", UTF-8, zero-padded.
    pub name: [u8; MAX_NAME_LEN],
    /// e.g. "us-east"
    pub code: [u8; MAX_SHORT_LEN],
    /// Location in micro-degrees, so provisioners can route unpinned work to the nearest
    /// cluster from chain state alone.
    pub latitude_micro_deg: i32,
    pub longitude_micro_deg: i32,
    /// Region ids start at 1: a rental's `region` of 0 means "any".
    pub id: u16,
    pub active: u8,
    pub bump: u8,
}

impl Region {
    pub fn is_active(&self) -> bool {
        self.active != 0
    }

    pub fn name(&self) -> &str {
        crate::state::fixed_str(&self.name)
    }

    pub fn code(&self) -> &str {
        crate::state::fixed_str(&self.code)
    }
}
