use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::{STAKE_POOL_SEED, STAKE_SEED};
use crate::errors::CalorError;
use crate::instructions::staking_rules::{emit_changed, Vaults};
use crate::state::{EpochRecord, Stake, StakePool};

/// The owner takes staked tokens back, at once and even while the protocol is paused.
///
/// There is no cooldown: rewards only go to stake that was active for a whole epoch and
/// votes only count stake that did not move after a proposal's snapshot, so leaving early
/// gains nothing, and a cooldown would only hold renters' and holders' tokens hostage.
/// Tokens still pending are returned first; active tokens withdrawn during an epoch give up
/// that epoch's rewards (credited at its end to the stake that stayed).
#[derive(Accounts)]
pub struct Unstake<'info> {
    #[account(mut, seeds = [STAKE_POOL_SEED], bump = stake_pool.bump)]
    pub stake_pool: Box<Account<'info, StakePool>>,
    #[account(mut, seeds = [STAKE_SEED, owner.key().as_ref()], bump = stake.bump,
              has_one = owner @ CalorError::NotStakeOwner)]
    pub stake: Box<Account<'info, Stake>>,
    /// The record of the epoch the stake's pending tokens were added in, once it has
    /// ended (checked in `Stake::sync`).
    pub epoch_record: Option<Box<Account<'info, EpochRecord>>>,
    #[account(mut, address = stake_pool.stake_vault)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = stake_vault.mint @ CalorError::WrongMint)]
    pub calor_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, constraint = owner_token.mint == calor_mint.key() @ CalorError::WrongMint)]
    pub owner_token: Box<InterfaceAccount<'info, TokenAccount>>,
    pub owner: Signer<'info>,
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn handler(ctx: Context<Unstake>, amount: u64) -> Result<()> {
    require!(amount > 0, CalorError::ZeroAmount);
    let a = &mut *ctx.accounts;
    a.stake
        .sync(&a.stake_pool, a.epoch_record.as_deref().map(|r| &**r))?;
    require!(amount <= a.stake.total(), CalorError::InsufficientStake);
    let from_pending = amount.min(a.stake.pending);
    let from_active = amount - from_pending;
    a.stake.pending -= from_pending;
    a.stake.active -= from_active;
    a.stake.last_changed_slot = Clock::get()?.slot;
    let pool = &mut a.stake_pool;
    pool.pending_stake = pool
        .pending_stake
        .checked_sub(from_pending)
        .ok_or(CalorError::MathOverflow)?;
    pool.active_stake = pool
        .active_stake
        .checked_sub(from_active)
        .ok_or(CalorError::MathOverflow)?;

    let vaults = Vaults {
        pool: &a.stake_pool,
        mint: &a.calor_mint,
        token_program: a.token_program.to_account_info(),
    };
    vaults.pay(
        a.stake_vault.to_account_info(),
        a.owner_token.to_account_info(),
        amount,
    )?;
    emit_changed(&a.stake_pool, &a.stake, 0, amount);
    Ok(())
}
