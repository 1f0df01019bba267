use anchor_lang::prelude::*;

use crate::constants::SEASONING_EPOCHS;
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
    /// When each token still staked was deposited: governance and routing priority count
    /// only seasoned stake (see [`DepositLedger::seasoned`]).
    pub deposits: DepositLedger,
    /// No unstaking before this time: a vote or a proposal holds the stake until its voting
    /// ends, so the same tokens cannot be counted again from another wallet.
    pub locked_until: i64,
    /// Open rentals routed with this stake's priority (counted down at their settlement).
    pub priority_rentals: u32,
    /// While `priority_rentals > 0`, unstaking may not take the stake below this: the tier
    /// threshold those rentals were given priority for.
    pub priority_floor: u64,
    pub bump: u8,
}

/// Deposits by epoch: the latest `RECENT_DEPOSITS` deposit epochs exactly, older ones folded
/// into `base` (whose newest epoch is `base_epoch`). Withdrawals take the newest tokens first,
/// so leaving never ages what stays.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct DepositLedger {
    pub base: u64,
    pub base_epoch: u64,
    /// Oldest first; `amount == 0` marks an unused slot (always at the end).
    pub recent: [EpochDeposit; RECENT_DEPOSITS],
}

#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct EpochDeposit {
    pub epoch: u64,
    pub amount: u64,
}

pub const RECENT_DEPOSITS: usize = 4;

impl DepositLedger {
    pub fn total(&self) -> u64 {
        self.recent
            .iter()
            .fold(self.base, |sum, d| sum.saturating_add(d.amount))
    }

    pub fn deposit(&mut self, epoch: u64, amount: u64) -> Result<()> {
        let used = self.recent.iter().take_while(|d| d.amount > 0).count();
        if let Some(last) = used.checked_sub(1).map(|i| &mut self.recent[i]) {
            if last.epoch == epoch {
                last.amount = last
                    .amount
                    .checked_add(amount)
                    .ok_or(CalorError::MathOverflow)?;
                return Ok(());
            }
        }
        let slot = if used == RECENT_DEPOSITS {
            // fold the oldest exact entry into the base
            let oldest = self.recent[0];
            self.base = self
                .base
                .checked_add(oldest.amount)
                .ok_or(CalorError::MathOverflow)?;
            self.base_epoch = oldest.epoch;
            self.recent.copy_within(1.., 0);
            RECENT_DEPOSITS - 1
        } else {
            used
        };
        self.recent[slot] = EpochDeposit { epoch, amount };
        Ok(())
    }

    /// Removes `amount`, newest deposits first.
    pub fn withdraw(&mut self, mut amount: u64) -> Result<()> {
        for d in self.recent.iter_mut().rev() {
            let take = amount.min(d.amount);
            d.amount -= take;
            amount -= take;
            if d.amount == 0 {
                *d = EpochDeposit::default();
            }
        }
        self.base = self
            .base
            .checked_sub(amount)
            .ok_or(CalorError::InsufficientStake)?;
        Ok(())
    }

    /// Tokens deposited in epoch `cutoff` or before and still staked. Folded deposits count
    /// only if all of them are that old (conservative: never more than the truth).
    pub fn deposited_by(&self, cutoff: u64) -> u64 {
        let base = if self.base_epoch <= cutoff {
            self.base
        } else {
            0
        };
        self.recent
            .iter()
            .filter(|d| d.amount > 0 && d.epoch <= cutoff)
            .fold(base, |sum, d| sum.saturating_add(d.amount))
    }

    /// Stake that was active for the whole epoch before `epoch`: deposited in
    /// `epoch - SEASONING_EPOCHS` or earlier. Nothing is seasoned in the first epochs.
    pub fn seasoned(&self, epoch: u64) -> u64 {
        epoch
            .checked_sub(SEASONING_EPOCHS)
            .map_or(0, |cutoff| self.deposited_by(cutoff))
    }
}

impl Stake {
    pub fn total(&self) -> u64 {
        self.active.saturating_add(self.pending)
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

    /// Holds the stake until `until` (the later of any holds).
    pub fn lock_until(&mut self, until: i64) {
        self.locked_until = self.locked_until.max(until);
    }

    /// What may leave now: nothing while a vote holds the stake, and never the priority floor
    /// while prioritised rentals are open.
    pub fn withdrawable(&self, now: i64) -> Result<u64> {
        require!(now >= self.locked_until, CalorError::StakeLocked);
        let floor = if self.priority_rentals > 0 {
            self.priority_floor
        } else {
            0
        };
        Ok(self.total().saturating_sub(floor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seasoning_counts_only_old_deposits_and_withdrawals_take_the_newest() {
        let mut l = DepositLedger::default();
        l.deposit(3, 100).unwrap();
        l.deposit(3, 50).unwrap();
        l.deposit(5, 1_000).unwrap();
        assert_eq!(l.total(), 1_150);
        assert_eq!(l.seasoned(4), 0); // cutoff 2
        assert_eq!(l.seasoned(5), 150); // cutoff 3
        assert_eq!(l.seasoned(7), 1_150);
        // newest first: the seasoned 150 survive a 1,000 withdrawal
        l.withdraw(1_000).unwrap();
        assert_eq!(l.seasoned(5), 150);
        l.withdraw(120).unwrap();
        assert_eq!(l.total(), 30);
        assert!(l.withdraw(31).is_err());
        assert_eq!(DepositLedger::default().seasoned(1), 0);
    }

    #[test]
    fn folded_deposits_count_only_when_all_of_them_are_old() {
        let mut l = DepositLedger::default();
        for epoch in 1..=6 {
            l.deposit(epoch, 10).unwrap();
        }
        // epochs 1 and 2 folded into the base (newest folded: 2)
        assert_eq!((l.base, l.base_epoch), (20, 2));
        assert_eq!(l.total(), 60);
        assert_eq!(l.deposited_by(1), 0, "the base is not known to be that old");
        assert_eq!(l.deposited_by(2), 20);
        assert_eq!(l.deposited_by(4), 40);
        // a property: never more than the exact count
        let mut exact: Vec<(u64, u64)> = Vec::new();
        let mut l = DepositLedger::default();
        let mut seed = 7u64;
        for step in 0..2_000u64 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let epoch = step / 3;
            if seed.is_multiple_of(3) && l.total() > 0 {
                let amount = 1 + (seed >> 20) % l.total();
                l.withdraw(amount).unwrap();
                let mut left = amount;
                while left > 0 {
                    let last = exact.last_mut().unwrap();
                    let take = left.min(last.1);
                    last.1 -= take;
                    left -= take;
                    if last.1 == 0 {
                        exact.pop();
                    }
                }
            } else {
                let amount = 1 + (seed >> 24) % 1_000;
                l.deposit(epoch, amount).unwrap();
                exact.push((epoch, amount));
            }
            let cutoff = epoch.saturating_sub(seed % 5);
            let truth: u64 = exact.iter().filter(|d| d.0 <= cutoff).map(|d| d.1).sum();
            assert!(l.deposited_by(cutoff) <= truth);
            assert_eq!(l.total(), exact.iter().map(|d| d.1).sum::<u64>());
        }
    }
}
