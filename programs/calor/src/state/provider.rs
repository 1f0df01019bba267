use anchor_lang::prelude::*;

use crate::constants::MAX_ENDPOINT_LEN;

/// A GPU operator. PDA: `[PROVIDER_SEED, authority]`.
#[account]
#[derive(InitSpace, Debug)]
pub struct Provider {
    /// Signs for the provider's nodes and rentals (the provisioner's key).
    pub authority: Pubkey,
    /// Set by the config authority; unapproved providers cannot list nodes or claim.
    pub approved: bool,
    /// Where renters reach instances (a hostname).
    #[max_len(MAX_ENDPOINT_LEN)]
    pub endpoint: String,
    pub region: u16,
    /// Receives lamports; for Calor, payouts go to this wallet's token account.
    pub payout: Pubkey,
    /// Nodes listed so far: the next node's index.
    pub node_count: u32,
    pub bump: u8,
}
