use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::events::{AuthorityTransferProposed, AuthorityTransferred};
use crate::state::Config;

/// Step one of two: the authority names its successor (or `None` to withdraw the offer).
/// A multisig's vault address works as a successor like any other key.
#[derive(Accounts)]
pub struct TransferAuthority<'info> {
    #[account(mut, has_one = authority @ CalorError::NotConfigAuthority)]
    pub config: AccountLoader<'info, Config>,
    pub authority: Signer<'info>,
}

pub fn transfer_handler(
    ctx: Context<TransferAuthority>,
    new_authority: Option<Pubkey>,
) -> Result<()> {
    if let Some(key) = new_authority {
        require_keys_neq!(key, Pubkey::default(), CalorError::InvalidAuthority);
    }
    let mut config = ctx.accounts.config.load_mut()?;
    config.pending_authority = new_authority.unwrap_or_default();
    emit!(AuthorityTransferProposed {
        authority: config.authority,
        pending_authority: new_authority,
    });
    Ok(())
}

/// Step two: the successor signs, so a typo can never hand the protocol to a dead key.
#[derive(Accounts)]
pub struct AcceptAuthority<'info> {
    #[account(mut)]
    pub config: AccountLoader<'info, Config>,
    pub new_authority: Signer<'info>,
}

pub fn accept_handler(ctx: Context<AcceptAuthority>) -> Result<()> {
    let mut config = ctx.accounts.config.load_mut()?;
    require!(
        config.pending_authority() == Some(ctx.accounts.new_authority.key()),
        CalorError::NotPendingAuthority
    );
    let old_authority = config.authority;
    config.authority = ctx.accounts.new_authority.key();
    config.pending_authority = Pubkey::default();
    emit!(AuthorityTransferred {
        old_authority,
        new_authority: config.authority,
    });
    Ok(())
}
