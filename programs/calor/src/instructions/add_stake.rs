use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::{CONFIG_SEED, STAKE_POOL_SEED, STAKE_SEED};
use crate::errors::CalorError;
use crate::instructions::staking_rules::deposit_pending;
use crate::state::{Config, EpochRecord, Stake, StakePool};
use crate::transfers::TokensIn;

/// Adds to an existing stake. The new tokens earn from the next epoch on; what was already
/// active keeps earning.
#[derive(Accounts)]
pub struct AddStake<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
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
    #[account(address = config.calor_mint @ CalorError::WrongMint)]
    pub calor_mint: Box<InterfaceAccount<'info, Mint>>,
    /// `owner` must sign for it (checked by the token program).
    #[account(mut, constraint = owner_token.mint == calor_mint.key() @ CalorError::WrongMint)]
    pub owner_token: Box<InterfaceAccount<'info, TokenAccount>>,
    pub owner: Signer<'info>,
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn handler(ctx: Context<AddStake>, amount: u64) -> Result<()> {
    require!(!ctx.accounts.config.paused, CalorError::Paused);
    let a = &mut *ctx.accounts;
    a.stake
        .sync(&a.stake_pool, a.epoch_record.as_deref().map(|r| &**r))?;
    let tokens = TokensIn {
        token_program: &a.token_program,
        mint: &a.calor_mint,
        from: &a.owner_token,
        authority: &a.owner,
        to: &mut a.stake_vault,
    };
    deposit_pending(&mut a.stake_pool, &mut a.stake, tokens, amount)?;
    Ok(())
}
