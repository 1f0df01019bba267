use anchor_lang::prelude::*;

use crate::constants::{CONFIG_SEED, MAX_ENDPOINT_LEN, PROVIDER_SEED, REGION_SEED};
use crate::errors::CalorError;
use crate::events::ProviderRegistered;
use crate::instructions::gpu_model::valid_text;
use crate::state::{Config, Provider, Region};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RegisterProviderArgs {
    pub endpoint: String,
    pub payout: Pubkey,
}

/// Anyone may register as a provider; it can list nodes only once approved.
#[derive(Accounts)]
pub struct RegisterProvider<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(init, payer = authority, space = 8 + Provider::INIT_SPACE,
              seeds = [PROVIDER_SEED, authority.key().as_ref()], bump)]
    pub provider: Account<'info, Provider>,
    #[account(seeds = [REGION_SEED, &region.id.to_le_bytes()], bump = region.bump)]
    pub region: Account<'info, Region>,
    #[account(mut)]
    pub authority: Signer<'info>,
    pub system_program: Program<'info, System>,
}

impl RegisterProvider<'_> {
    pub fn validate(&self, args: &RegisterProviderArgs) -> Result<()> {
        require!(!self.config.paused, CalorError::Paused);
        require!(self.region.active, CalorError::RegionInactive);
        require!(
            valid_text(&args.endpoint, MAX_ENDPOINT_LEN),
            CalorError::InvalidEndpoint
        );
        require_keys_neq!(args.payout, Pubkey::default(), CalorError::WrongPayee);
        Ok(())
    }
}

pub fn handler(ctx: Context<RegisterProvider>, args: RegisterProviderArgs) -> Result<()> {
    ctx.accounts.validate(&args)?;
    let provider = &mut ctx.accounts.provider;
    provider.set_inner(Provider {
        authority: ctx.accounts.authority.key(),
        approved: false,
        endpoint: args.endpoint,
        region: ctx.accounts.region.id,
        payout: args.payout,
        node_count: 0,
        bump: ctx.bumps.provider,
    });
    emit!(ProviderRegistered {
        provider: provider.key(),
        authority: provider.authority,
        region: provider.region,
        payout: provider.payout,
    });
    Ok(())
}
