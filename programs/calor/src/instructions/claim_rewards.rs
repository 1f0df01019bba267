use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::{STAKE_POOL_SEED, STAKE_SEED};
use crate::errors::CalorError;
use crate::events::RewardsClaimed;
use crate::instructions::staking_rules::Vaults;
use crate::state::{EpochRecord, Stake, StakePool};

/// The owner takes the rewards credited to the stake (allowed while paused: it only returns
/// funds).
#[derive(Accounts)]
pub struct ClaimRewards<'info> {
    #[account(mut, seeds = [STAKE_POOL_SEED], bump = stake_pool.bump)]
    pub stake_pool: Box<Account<'info, StakePool>>,
    #[account(mut, seeds = [STAKE_SEED, owner.key().as_ref()], bump = stake.bump,
              has_one = owner @ CalorError::NotStakeOwner)]
    pub stake: Box<Account<'info, Stake>>,
    /// The record of the epoch the stake's pending tokens were added in, once it has
    /// ended (checked in `Stake::sync`).
    pub epoch_record: Option<Box<Account<'info, EpochRecord>>>,
    #[account(mut, address = stake_pool.rewards_vault)]
    pub rewards_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = rewards_vault.mint @ CalorError::WrongMint)]
    pub calor_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, constraint = owner_token.mint == calor_mint.key() @ CalorError::WrongMint)]
    pub owner_token: Box<InterfaceAccount<'info, TokenAccount>>,
    pub owner: Signer<'info>,
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn handler(ctx: Context<ClaimRewards>) -> Result<()> {
    let a = &mut *ctx.accounts;
    a.stake
        .sync(&a.stake_pool, a.epoch_record.as_deref().map(|r| &**r))?;
    let amount = a.stake.unclaimed;
    require!(amount > 0, CalorError::NothingToClaim);
    a.stake.unclaimed = 0;
    let pool = &mut a.stake_pool;
    pool.reserved_rewards = pool
        .reserved_rewards
        .checked_sub(amount)
        .ok_or(CalorError::MathOverflow)?;
    pool.rewards_claimed = pool
        .rewards_claimed
        .checked_add(amount)
        .ok_or(CalorError::MathOverflow)?;
    let vaults = Vaults {
        pool: &a.stake_pool,
        mint: &a.calor_mint,
        token_program: a.token_program.to_account_info(),
    };
    vaults.pay(
        a.rewards_vault.to_account_info(),
        a.owner_token.to_account_info(),
        amount,
    )?;
    emit!(RewardsClaimed {
        owner: a.owner.key(),
        amount,
    });
    Ok(())
}
