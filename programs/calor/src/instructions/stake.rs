use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::{CONFIG_SEED, STAKE_POOL_SEED, STAKE_SEED};
use crate::errors::CalorError;
use crate::instructions::staking_rules::deposit_pending;
use crate::state::{Config, Stake, StakePool};
use crate::transfers::TokensIn;

/// Opens the owner's stake account with a first deposit. The tokens earn from the next
/// epoch on.
#[derive(Accounts)]
pub struct CreateStake<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [STAKE_POOL_SEED], bump = stake_pool.bump)]
    pub stake_pool: Box<Account<'info, StakePool>>,
    #[account(init, payer = owner, space = 8 + Stake::INIT_SPACE,
              seeds = [STAKE_SEED, owner.key().as_ref()], bump)]
    pub stake: Box<Account<'info, Stake>>,
    #[account(mut, address = stake_pool.stake_vault)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = config.calor_mint @ CalorError::WrongMint)]
    pub calor_mint: Box<InterfaceAccount<'info, Mint>>,
    /// `owner` must sign for it (checked by the token program).
    #[account(mut, constraint = owner_token.mint == calor_mint.key() @ CalorError::WrongMint)]
    pub owner_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut)]
    pub owner: Signer<'info>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<CreateStake>, amount: u64) -> Result<()> {
    require!(!ctx.accounts.config.paused, CalorError::Paused);
    let a = &mut *ctx.accounts;
    a.stake.set_inner(Stake {
        owner: a.owner.key(),
        active: 0,
        pending: 0,
        pending_epoch: a.stake_pool.epoch,
        reward_checkpoint: a.stake_pool.acc_reward_per_share,
        unclaimed: 0,
        last_changed_slot: 0,
        bump: ctx.bumps.stake,
    });
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
