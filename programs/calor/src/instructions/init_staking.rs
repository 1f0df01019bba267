use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::{CONFIG_SEED, REWARDS_VAULT_SEED, STAKE_POOL_SEED, STAKE_VAULT_SEED};
use crate::errors::CalorError;
use crate::events::StakingInitialized;
use crate::state::{Config, StakePool};

/// The config authority creates the stake pool with its two vaults, once.
#[derive(Accounts)]
pub struct InitStaking<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump,
              has_one = authority @ CalorError::NotConfigAuthority)]
    pub config: Box<Account<'info, Config>>,
    #[account(init, payer = authority, space = 8 + StakePool::INIT_SPACE,
              seeds = [STAKE_POOL_SEED], bump)]
    pub stake_pool: Box<Account<'info, StakePool>>,
    #[account(address = config.calor_mint @ CalorError::WrongMint,
              mint::token_program = token_program)]
    pub calor_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(init, payer = authority, seeds = [STAKE_VAULT_SEED], bump,
              token::mint = calor_mint, token::authority = stake_pool,
              token::token_program = token_program)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(init, payer = authority, seeds = [REWARDS_VAULT_SEED], bump,
              token::mint = calor_mint, token::authority = stake_pool,
              token::token_program = token_program)]
    pub rewards_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut)]
    pub authority: Signer<'info>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<InitStaking>) -> Result<()> {
    let pool = &mut ctx.accounts.stake_pool;
    pool.set_inner(StakePool {
        stake_vault: ctx.accounts.stake_vault.key(),
        rewards_vault: ctx.accounts.rewards_vault.key(),
        epoch: 0,
        epoch_started_at: Clock::get()?.unix_timestamp,
        active_stake: 0,
        pending_stake: 0,
        acc_reward_per_share: 0,
        reserved_rewards: 0,
        rewards_distributed: 0,
        rewards_claimed: 0,
        proposal_count: 0,
        bump: ctx.bumps.stake_pool,
        stake_vault_bump: ctx.bumps.stake_vault,
        rewards_vault_bump: ctx.bumps.rewards_vault,
    });
    emit!(StakingInitialized {
        stake_pool: pool.key(),
        stake_vault: pool.stake_vault,
        rewards_vault: pool.rewards_vault,
    });
    Ok(())
}
