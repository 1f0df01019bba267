use anchor_lang::prelude::*;

/// Pool-wide staking totals and the reward accumulator. PDA: `[STAKE_POOL_SEED]`.
///
/// Rewards are Calor protocol fees sent to `rewards_vault` by `settle_calor`. At each
/// epoch's end (`advance_epoch`) whatever arrived and is not yet owed to anyone is spread
/// over the stake that was active for that epoch by raising `acc_reward_per_share`; stake
/// added during an epoch (`pending_stake`) becomes active at the next epoch boundary.
#[account]
#[derive(InitSpace, Debug)]
pub struct StakePool {
    pub stake_vault: Pubkey,
    pub rewards_vault: Pubkey,
    /// Counts epoch boundaries; the first epoch is 0.
    pub epoch: u64,
    pub epoch_started_at: i64,
    /// Stake earning rewards in the current epoch.
    pub active_stake: u64,
    /// Stake added during the current epoch; it earns from the next one.
    pub pending_stake: u64,
    /// Rewards per staked base unit, scaled by [`crate::math::REWARD_SCALE`].
    pub acc_reward_per_share: u128,
    /// Rewards distributed and not yet claimed: the part of `rewards_vault` that is owed.
    pub reserved_rewards: u64,
    pub rewards_distributed: u64,
    pub rewards_claimed: u64,
    /// The next proposal's id.
    pub proposal_count: u64,
    pub bump: u8,
    pub stake_vault_bump: u8,
    pub rewards_vault_bump: u8,
}

impl StakePool {
    /// Stake in the pool, active or pending: what the stake vault holds.
    pub fn total_stake(&self) -> u64 {
        self.active_stake.saturating_add(self.pending_stake)
    }
}
