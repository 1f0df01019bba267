use anchor_lang::prelude::*;

use crate::constants::CONFIG_SEED;
use crate::errors::CalorError;
use crate::events::{AuthorityTransferProposed, AuthorityTransferred};
use crate::state::Config;

/// Step one of two: the authority names its successor (or `None` to withdraw the offer).
/// A multisig's vault address works as a successor like any other key.
#[derive(Accounts)]
pub struct TransferAuthority<'info> {
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump,
              has_one = authority @ CalorError::NotConfigAuthority)]
    pub config: Box<Account<'info, Config>>,
    pub authority: Signer<'info>,
}

pub fn transfer_handler(
    ctx: Context<TransferAuthority>,
    new_authority: Option<Pubkey>,
) -> Result<()> {
    let config = &mut ctx.accounts.config;
    config.pending_authority = new_authority;
    emit!(AuthorityTransferProposed {
        authority: config.authority,
        pending_authority: new_authority,
    });
    Ok(())
}

/// Step two: the successor signs, so a typo can never hand the protocol to a dead key.
#[derive(Accounts)]
pub struct AcceptAuthority<'info> {
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump,
              constraint = config.pending_authority == Some(new_authority.key())
                  @ CalorError::NotPendingAuthority)]
    pub config: Box<Account<'info, Config>>,
    pub new_authority: Signer<'info>,
}

pub fn accept_handler(ctx: Context<AcceptAuthority>) -> Result<()> {
    let config = &mut ctx.accounts.config;
    let old_authority = config.authority;
    config.authority = ctx.accounts.new_authority.key();
    config.pending_authority = None;
    emit!(AuthorityTransferred {
        old_authority,
        new_authority: config.authority,
    });
    Ok(())
}
