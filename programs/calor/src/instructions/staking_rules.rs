//! What the staking instructions share: moving tokens in and out of the pool's vaults and
//! keeping a stake and the pool totals in step.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{transfer_checked, Mint, TokenAccount, TransferChecked};

use crate::constants::STAKE_POOL_SEED;
use crate::errors::CalorError;
use crate::events::StakeChanged;
use crate::state::{Stake, StakePool};

/// Accounts every instruction that moves stake or rewards uses.
pub struct Vaults<'a, 'info> {
    pub pool: &'a Account<'info, StakePool>,
    pub mint: &'a InterfaceAccount<'info, Mint>,
    pub token_program: AccountInfo<'info>,
}

impl<'info> Vaults<'_, 'info> {
    /// Pulls `amount` from the owner's token account into `vault`; returns what arrived
    /// (a Token-2022 transfer fee would make it less than what was sent).
    pub fn deposit(
        &self,
        from: AccountInfo<'info>,
        owner: AccountInfo<'info>,
        vault: &mut InterfaceAccount<'info, TokenAccount>,
        amount: u64,
    ) -> Result<u64> {
        require!(amount > 0, CalorError::ZeroAmount);
        let before = vault.amount;
        transfer_checked(
            CpiContext::new(
                self.token_program.key(),
                TransferChecked {
                    from,
                    mint: self.mint.to_account_info(),
                    to: vault.to_account_info(),
                    authority: owner,
                },
            ),
            amount,
            self.mint.decimals,
        )?;
        vault.reload()?;
        Ok(vault.amount.saturating_sub(before))
    }

    /// Sends `amount` out of one of the pool's vaults, signed by the pool PDA.
    pub fn pay(
        &self,
        vault: AccountInfo<'info>,
        to: AccountInfo<'info>,
        amount: u64,
    ) -> Result<()> {
        let seeds: &[&[u8]] = &[STAKE_POOL_SEED, &[self.pool.bump]];
        transfer_checked(
            CpiContext::new_with_signer(
                self.token_program.key(),
                TransferChecked {
                    from: vault,
                    mint: self.mint.to_account_info(),
                    to,
                    authority: self.pool.to_account_info(),
                },
                &[seeds],
            ),
            amount,
            self.mint.decimals,
        )
    }
}

/// Books `received` tokens as pending stake for the current epoch.
pub fn add_pending(pool: &mut StakePool, stake: &mut Stake, received: u64) -> Result<()> {
    stake.pending = stake
        .pending
        .checked_add(received)
        .ok_or(CalorError::MathOverflow)?;
    stake.pending_epoch = pool.epoch;
    stake.last_changed_slot = Clock::get()?.slot;
    pool.pending_stake = pool
        .pending_stake
        .checked_add(received)
        .ok_or(CalorError::MathOverflow)?;
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
