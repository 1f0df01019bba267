use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::math;
use crate::state::{EpochRecord, StakePool};

/// One owner's staked Calor. PDA: `[STAKE_SEED, owner]`.
#[account]
#[derive(InitSpace, Debug)]
pub struct Stake {
    pub owner: Pubkey,
    /// Earning rewards.
    pub active: u64,
    /// Added during epoch `pending_epoch`; active from the epoch after it.
    pub pending: u64,
    pub pending_epoch: u64,
    /// The pool accumulator up to which `active` has been credited.
    pub reward_checkpoint: u128,
    /// Credited and not yet claimed.
    pub unclaimed: u64,
    /// The slot of the last deposit or withdrawal: a proposal only counts stake that did
    /// not change after it was made.
    pub last_changed_slot: u64,
    pub bump: u8,
}

impl Stake {
    pub fn total(&self) -> u64 {
        self.active.saturating_add(self.pending)
    }

    /// Stake that has been held across an epoch boundary, as of the pool's `epoch`:
    /// routing priority is derived from it, so it cannot be bought for a moment.
    pub fn effective_active(&self, pool_epoch: u64) -> u64 {
        if self.pending_epoch < pool_epoch {
            self.total()
        } else {
            self.active
        }
    }

    /// Credits the rewards earned since the last touch and activates pending stake whose
    /// epoch has ended (which needs that epoch's record).
    pub fn sync(&mut self, pool: &StakePool, record: Option<&EpochRecord>) -> Result<()> {
        if self.pending > 0 && self.pending_epoch < pool.epoch {
            let record = record.ok_or(CalorError::EpochRecordRequired)?;
            require!(
                record.epoch == self.pending_epoch,
                CalorError::WrongEpochRecord
            );
            self.credit(record.acc_reward_per_share)?;
            self.active = self
                .active
                .checked_add(self.pending)
                .ok_or(CalorError::MathOverflow)?;
            self.pending = 0;
        }
        self.credit(pool.acc_reward_per_share)
    }

    fn credit(&mut self, acc: u128) -> Result<()> {
        let earned = math::rewards_earned(self.active, self.reward_checkpoint, acc)?;
        self.unclaimed = self
            .unclaimed
            .checked_add(earned)
            .ok_or(CalorError::MathOverflow)?;
        self.reward_checkpoint = acc;
        Ok(())
    }
}
