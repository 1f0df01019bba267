use anchor_lang::prelude::*;

/// The protocol's Calor purse. PDA: `[SUBSIDY_POOL_SEED]`, created with the stake pool.
///
/// Its vault pays what Calor renters do not (the subsidy) and the burns their rentals fund,
/// so providers earn their rate's full value whatever the renter pays with; the treasury's
/// share of Calor protocol fees flows into it. Each open or extension reserves what its
/// rental can draw at most; settlement draws what the served time used and releases the
/// rest. New reservations are capped per epoch by `subsidy_budget_per_epoch` (governed).
///
/// Zero-copy: Calor opens and settlements write it.
#[account(zero_copy)]
#[derive(Debug)]
pub struct SubsidyPool {
    /// The token account `[SUBSIDY_VAULT_SEED]`, owned by this PDA.
    pub vault: Pubkey,
    /// The stake pool's rewards vault, which receives the stakers' share of fees.
    pub rewards_vault: Pubkey,
    /// Calor committed to rentals not yet settled.
    pub reserved: u64,
    /// Stakers' share of the Calor fees settled since the last epoch advance: it waits in
    /// the vault and moves to the rewards vault at the epoch's end (one transfer per epoch
    /// instead of one per settlement).
    pub staker_rewards_owed: u64,
    /// The current budget epoch and what it has committed so far.
    pub budget_epoch_started_at: i64,
    pub budget_used: u64,
    pub bump: u8,
    pub vault_bump: u8,
    pub _padding: [u8; 6],
}

impl SubsidyPool {
    /// What the vault holds beyond commitments: the treasury's part, free for new rentals
    /// and for the treasury to withdraw.
    pub fn unreserved(&self, vault_balance: u64) -> u64 {
        vault_balance
            .saturating_sub(self.reserved)
            .saturating_sub(self.staker_rewards_owed)
    }
}
