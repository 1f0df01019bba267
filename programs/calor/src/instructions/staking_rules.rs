//! What the staking instructions share: moving tokens into and out of the pool's vaults and
//! keeping a stake and the pool totals in step.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{transfer_checked, Mint, TransferChecked};

use crate::constants::STAKE_POOL_SEED;
use crate::errors::CalorError;
use crate::events::StakeChanged;
use crate::state::{Stake, StakePool};
use crate::transfers::TokensIn;

/// Accounts every instruction that moves stake or rewards uses.
pub struct Vaults<'a, 'info> {
    pub pool: &'a Account<'info, StakePool>,
    pub mint: &'a InterfaceAccount<'info, Mint>,
    pub token_program: AccountInfo<'info>,
}

impl<'info> Vaults<'_, 'info> {
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

/// Pulls `amount` into the stake vault and books what arrived as pending stake of the
/// current epoch.
pub fn deposit_pending(
    pool: &mut StakePool,
    stake: &mut Stake,
    tokens: TokensIn,
    amount: u64,
) -> Result<()> {
    require!(amount > 0, CalorError::ZeroAmount);
    let received = tokens.transfer(amount)?;
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
    emit_changed(pool, stake, received, 0);
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
