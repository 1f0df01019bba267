use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::instructions::staking_rules::{emit_changed, StakeTokens};
use crate::state::{Config, EpochRecord, Stake, StakePool};

/// The owner takes staked tokens back, also while the protocol is paused, unless a vote or
/// proposal holds the stake (until that voting ends) or a rental routed with its priority is
/// still open (its tier's amount stays until that rental is settled).
///
/// There is no other cooldown: rewards only go to stake that was active for a whole epoch,
/// and votes and priority only count stake that has been active for a whole epoch, so
/// leaving early gains nothing. Tokens still pending are returned first; active tokens
/// withdrawn during an epoch give up that epoch's rewards (credited at its end to the stake
/// that stayed).
#[derive(Accounts)]
pub struct Unstake<'info> {
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub stake_pool: Box<Account<'info, StakePool>>,
    #[account(mut, has_one = owner @ CalorError::NotStakeOwner)]
    pub stake: Box<Account<'info, Stake>>,
    /// The record of the epoch the stake's pending tokens were added in, once it has
    /// ended (checked in `Stake::sync`).
    pub epoch_record: Option<Box<Account<'info, EpochRecord>>>,
    /// CHECK: the pool's stake vault (`address`).
    #[account(mut, address = stake_pool.stake_vault @ CalorError::WrongVault)]
    pub stake_vault: UncheckedAccount<'info>,
    /// CHECK: the config's Calor mint (`StakeTokens::checked`).
    pub calor_mint: UncheckedAccount<'info>,
    /// CHECK: a Calor account (`StakeTokens::checked`).
    #[account(mut)]
    pub owner_token: UncheckedAccount<'info>,
    pub owner: Signer<'info>,
    /// CHECK: SPL Token or Token-2022 (`StakeTokens::checked`).
    pub token_program: UncheckedAccount<'info>,
}

pub fn handler(ctx: Context<Unstake>, amount: u64) -> Result<()> {
    require!(amount > 0, CalorError::ZeroAmount);
    let a = ctx.accounts;
    let config = a.config.load()?;
    let tokens = StakeTokens::checked(&config, &a.calor_mint, &a.owner_token, &a.token_program)?;
    a.stake
        .sync(&a.stake_pool, a.epoch_record.as_deref().map(|r| &**r))?;
    require!(amount <= a.stake.total(), CalorError::InsufficientStake);
    require!(
        amount <= a.stake.withdrawable(Clock::get()?.unix_timestamp)?,
        CalorError::StakeHeldForPriority
    );
    let from_pending = amount.min(a.stake.pending);
    let from_active = amount - from_pending;
    a.stake.pending -= from_pending;
    a.stake.active -= from_active;
    a.stake.deposits.withdraw(amount)?;
    let pool = &mut a.stake_pool;
    pool.pending_stake = pool
        .pending_stake
        .checked_sub(from_pending)
        .ok_or(CalorError::MathOverflow)?;
    pool.active_stake = pool
        .active_stake
        .checked_sub(from_active)
        .ok_or(CalorError::MathOverflow)?;

    tokens.pay(&a.stake_pool, &a.stake_vault, amount)?;
    emit_changed(&a.stake_pool, &a.stake, 0, amount);
    Ok(())
}
