use anchor_lang::prelude::*;
use anchor_spl::token_interface::Mint;

use crate::constants::CONFIG_SEED;
use crate::errors::CalorError;
use crate::events::ConfigInitialized;
use crate::program::Calor;
use crate::state::{Config, ConfigParams};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitializeArgs {
    pub treasury: Pubkey,
    pub params: ConfigParams,
}

#[derive(Accounts)]
pub struct Initialize<'info> {
    /// Seeds make the config a singleton: a second `initialize` fails in `init`.
    #[account(
        init,
        payer = authority,
        space = 8 + Config::INIT_SPACE,
        seeds = [CONFIG_SEED],
        bump,
    )]
    pub config: Account<'info, Config>,

    /// The Calor SPL mint (SPL Token or Token-2022); its owner is checked by `InterfaceAccount`.
    pub calor_mint: InterfaceAccount<'info, Mint>,

    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(constraint = program.programdata_address()? == Some(program_data.key()))]
    pub program: Program<'info, Calor>,

    /// Whoever controls upgrades controls initialization, so nobody can front-run the
    /// deployment with a config of their own.
    #[account(
        constraint = program_data.upgrade_authority_address == Some(authority.key())
            @ CalorError::NotUpgradeAuthority
    )]
    pub program_data: Account<'info, ProgramData>,

    pub system_program: Program<'info, System>,
}

impl Initialize<'_> {
    pub fn validate(&self, args: &InitializeArgs) -> Result<()> {
        require_keys_neq!(
            args.treasury,
            Pubkey::default(),
            CalorError::InvalidTreasury
        );
        args.params.validate()
    }
}

pub fn handler(ctx: Context<Initialize>, args: InitializeArgs) -> Result<()> {
    ctx.accounts.validate(&args)?;
    let config = &mut ctx.accounts.config;
    config.set_inner(Config {
        authority: ctx.accounts.authority.key(),
        pending_authority: None,
        treasury: args.treasury,
        calor_mint: ctx.accounts.calor_mint.key(),
        calor_decimals: ctx.accounts.calor_mint.decimals,
        params: args.params,
        calor_price_micro_usd: 0,
        calor_price_posted_at: 0,
        paused: false,
        bump: ctx.bumps.config,
    });
    emit!(ConfigInitialized {
        config: config.key(),
        authority: config.authority,
        treasury: config.treasury,
        calor_mint: config.calor_mint,
        protocol_fee_bps: config.params.protocol_fee_bps,
        burn_bps: config.params.burn_bps,
        calor_subsidy_bps: config.params.calor_subsidy_bps,
        min_rental_micro_usd: config.params.min_rental_micro_usd,
    });
    Ok(())
}
