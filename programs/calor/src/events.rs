//! One event per state change, so indexers and the provisioner can follow the program from logs.
use anchor_lang::prelude::*;

#[event]
pub struct ConfigInitialized {
    pub config: Pubkey,
    pub authority: Pubkey,
    pub treasury: Pubkey,
    pub calor_mint: Pubkey,
    pub protocol_fee_bps: u16,
    pub burn_bps: u16,
    pub calor_subsidy_bps: u16,
    pub min_rental_micro_usd: u64,
}
