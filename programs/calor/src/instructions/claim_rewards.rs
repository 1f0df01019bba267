use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::events::RewardsClaimed;
use crate::instructions::staking_rules::StakeTokens;
use crate::state::{Config, EpochRecord, Stake, StakePool};

/// The owner takes the rewards credited to the stake (allowed while paused: it only returns
/// funds).
#[derive(Accounts)]
pub struct ClaimRewards<'info> {
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub stake_pool: Box<Account<'info, StakePool>>,
    #[account(mut, has_one = owner @ CalorError::NotStakeOwner)]
    pub stake: Box<Account<'info, Stake>>,
    /// The record of the epoch the stake's pending tokens were added in, once it has
    /// ended (checked in `Stake::sync`).
    pub epoch_record: Option<Box<Account<'info, EpochRecord>>>,
    /// CHECK: the pool's rewards vault (`address`).
    #[account(mut, address = stake_pool.rewards_vault @ CalorError::WrongVault)]
    pub rewards_vault: UncheckedAccount<'info>,
    /// CHECK: the config's Calor mint (`StakeTokens::checked`).
    pub calor_mint: UncheckedAccount<'info>,
    /// CHECK: a Calor account (`StakeTokens::checked`).
    #[account(mut)]
    pub owner_token: UncheckedAccount<'info>,
    pub owner: Signer<'info>,
    /// CHECK: SPL Token or Token-2022 (`StakeTokens::checked`).
    pub token_program: UncheckedAccount<'info>,
}

pub fn handler(ctx: Context<ClaimRewards>) -> Result<()> {
    let a = ctx.accounts;
    let config = a.config.load()?;
    let tokens = StakeTokens::checked(&config, &a.calor_mint, &a.owner_token, &a.token_program)?;
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
    tokens.pay(&a.stake_pool, &a.rewards_vault, amount)?;
    emit!(RewardsClaimed {
        owner: a.owner.key(),
        amount,
    });
    Ok(())
}
