use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::events::ProviderApprovalChanged;
use crate::state::{Config, Provider};

/// The config authority approves (or revokes) a provider. Revoking stops new listings and
/// claims; rentals already claimed run to their end and settle normally.
#[derive(Accounts)]
pub struct ApproveProvider<'info> {
    #[account(has_one = authority @ CalorError::NotConfigAuthority)]
    pub config: AccountLoader<'info, Config>,
    /// A provider exists only at its PDA: owner and discriminator prove it.
    #[account(mut)]
    pub provider: AccountLoader<'info, Provider>,
    pub authority: Signer<'info>,
}

pub fn handler(ctx: Context<ApproveProvider>, approved: bool) -> Result<()> {
    ctx.accounts.provider.load_mut()?.approved = u8::from(approved);
    emit!(ProviderApprovalChanged {
        provider: ctx.accounts.provider.key(),
        approved,
    });
    Ok(())
}
