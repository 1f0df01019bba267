use anchor_lang::prelude::*;

use crate::constants::{CONFIG_SEED, PROVIDER_SEED};
use crate::errors::CalorError;
use crate::events::ProviderApprovalChanged;
use crate::state::{Config, Provider};

/// The config authority approves (or revokes) a provider. Revoking stops new listings and
/// claims; rentals already claimed run to their end and settle normally.
#[derive(Accounts)]
pub struct ApproveProvider<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump,
              has_one = authority @ CalorError::NotConfigAuthority)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [PROVIDER_SEED, provider.authority.as_ref()], bump = provider.bump)]
    pub provider: Account<'info, Provider>,
    pub authority: Signer<'info>,
}

pub fn handler(ctx: Context<ApproveProvider>, approved: bool) -> Result<()> {
    let provider = &mut ctx.accounts.provider;
    provider.approved = approved;
    emit!(ProviderApprovalChanged {
        provider: provider.key(),
        approved,
    });
    Ok(())
}
