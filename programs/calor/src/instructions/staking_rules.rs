//! What the staking instructions share: moving tokens into and out of the pool's vaults and
//! keeping a stake and the pool totals in step.
use anchor_lang::prelude::*;

use crate::constants::STAKE_POOL_SEED;
use crate::errors::CalorError;
use crate::events::StakeChanged;
use crate::state::{Config, Stake, StakePool};
use crate::token;

/// The token side of every staking instruction: the Calor mint, the owner's token account and
/// the token program, checked against the config (`checked`).
pub struct StakeTokens<'a, 'info> {
    pub config: &'a Config,
    pub mint: &'a AccountInfo<'info>,
    pub owner_token: &'a AccountInfo<'info>,
    pub token_program: &'a AccountInfo<'info>,
}

impl<'a, 'info> StakeTokens<'a, 'info> {
    /// The mint is the config's and the owner's account holds it (a foreign mint gets a
    /// named error here rather than the token program's).
    pub fn checked(
        config: &'a Config,
        mint: &'a AccountInfo<'info>,
        owner_token: &'a AccountInfo<'info>,
        token_program: &'a AccountInfo<'info>,
    ) -> Result<Self> {
        token::require_calor_account(config, mint, owner_token, token_program)?;
        Ok(Self {
            config,
            mint,
            owner_token,
            token_program,
        })
    }

    /// Moves `amount` from the owner's account (`owner` signs) into `vault`. Calor mints
    /// take no transfer fee (`initialize` refuses them), so what is sent arrives.
    pub fn pull(
        &self,
        owner: &AccountInfo<'info>,
        vault: &AccountInfo<'info>,
        amount: u64,
    ) -> Result<()> {
        token::transfer_checked(
            self.token_program,
            self.owner_token,
            self.mint,
            vault,
            owner,
            amount,
            self.config.calor_decimals,
            &[],
        )
    }

    /// Sends `amount` out of one of the stake pool's vaults to the owner, signed by the pool.
    pub fn pay(
        &self,
        pool: &Account<'info, StakePool>,
        vault: &AccountInfo<'info>,
        amount: u64,
    ) -> Result<()> {
        let seeds: &[&[u8]] = &[STAKE_POOL_SEED, &[pool.bump]];
        token::transfer_checked(
            self.token_program,
            vault,
            self.mint,
            self.owner_token,
            &pool.to_account_info(),
            amount,
            self.config.calor_decimals,
            &[seeds],
        )
    }
}

/// Books `amount`, just pulled into the stake vault, as pending stake of the current epoch.
pub fn deposit_pending(pool: &mut StakePool, stake: &mut Stake, amount: u64) -> Result<()> {
    stake.pending = stake
        .pending
        .checked_add(amount)
        .ok_or(CalorError::MathOverflow)?;
    stake.pending_epoch = pool.epoch;
    stake.deposits.deposit(pool.epoch, amount)?;
    pool.pending_stake = pool
        .pending_stake
        .checked_add(amount)
        .ok_or(CalorError::MathOverflow)?;
    emit_changed(pool, stake, amount, 0);
    Ok(())
}

pub fn emit_changed(pool: &StakePool, stake: &Stake, deposited: u64, withdrawn: u64) {
    emit!(StakeChanged {
        owner: stake.owner,
        deposited,
        withdrawn,
        active: stake.active,
        pending: stake.pending,
        epoch: pool.epoch,
    });
}
