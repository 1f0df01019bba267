use anchor_lang::prelude::*;

/// What one epoch distributed, written by `advance_epoch` at its end. PDA:
/// `[EPOCH_SEED, epoch]`.
///
/// Stake added during epoch `e` starts earning at the accumulator value recorded here for
/// `e`, so a stake account that was not touched for many epochs can still be brought up
/// to date exactly.
#[account]
#[derive(InitSpace, Debug)]
pub struct EpochRecord {
    pub epoch: u64,
    /// The pool's reward accumulator right after this epoch's rewards were distributed.
    pub acc_reward_per_share: u128,
    pub distributed: u64,
    /// The stake that shared them.
    pub active_stake: u64,
    pub ended_at: i64,
    pub bump: u8,
}
