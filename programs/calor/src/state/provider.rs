use anchor_lang::prelude::*;

use crate::constants::MAX_ENDPOINT_LEN;

/// A GPU operator. PDA: `[PROVIDER_SEED, authority]`. Zero-copy: `claim` reads it.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Provider {
    /// Signs for the provider's nodes and rentals (the provisioner's key).
    pub authority: Pubkey,
    /// Receives lamports; for Calor, payouts go to this wallet's token account.
    pub payout: Pubkey,
    /// Where renters reach instances (a hostname), UTF-8, zero-padded.
    pub endpoint: [u8; MAX_ENDPOINT_LEN],
    /// Nodes listed so far: the next node's index.
    pub node_count: u32,
    pub region: u16,
    /// Set by the config authority (0 or 1); unapproved providers cannot list nodes or claim.
    pub approved: u8,
    pub bump: u8,
}

impl Provider {
    pub fn is_approved(&self) -> bool {
        self.approved != 0
    }

    pub fn endpoint(&self) -> &str {
        crate::state::fixed_str(&self.endpoint)
    }
}
