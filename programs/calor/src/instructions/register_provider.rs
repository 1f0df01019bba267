use anchor_lang::prelude::*;

use crate::constants::{MAX_ENDPOINT_LEN, PROVIDER_SEED};
use crate::errors::CalorError;
use crate::events::ProviderRegistered;
use crate::instructions::gpu_model::valid_text;
use crate::pda_accounts::{init_account, space_of, write_new};
use crate::state::{write_fixed_str, Config, Provider, Region};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RegisterProviderArgs {
    pub endpoint: String,
    pub payout: Pubkey,
}

/// Anyone may register as a provider; it can list nodes only once approved.
///
/// Account proofs: `config`, `region` by owner and discriminator; `provider` is created at
/// `[PROVIDER_SEED, authority]`.
#[derive(Accounts)]
pub struct RegisterProvider<'info> {
    pub config: AccountLoader<'info, Config>,
    /// CHECK: created here at `[PROVIDER_SEED, authority]`.
    #[account(mut)]
    pub provider: UncheckedAccount<'info>,
    pub region: AccountLoader<'info, Region>,
    #[account(mut)]
    pub authority: Signer<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<RegisterProvider>, args: RegisterProviderArgs) -> Result<()> {
    let a = ctx.accounts;
    require!(!a.config.load()?.is_paused(), CalorError::Paused);
    let region = a.region.load()?;
    require!(region.is_active(), CalorError::RegionInactive);
    require!(
        valid_text(&args.endpoint, MAX_ENDPOINT_LEN),
        CalorError::InvalidEndpoint
    );
    require_keys_neq!(args.payout, Pubkey::default(), CalorError::WrongPayee);
    let authority = a.authority.key();
    let bump = init_account(
        &a.authority,
        &a.provider,
        &a.system_program,
        &[PROVIDER_SEED, authority.as_ref()],
        space_of::<Provider>(),
    )?;
    let mut provider = Provider {
        authority,
        payout: args.payout,
        region: region.id,
        bump,
        ..bytemuck::Zeroable::zeroed()
    };
    write_fixed_str(&mut provider.endpoint, &args.endpoint);
    write_new(&a.provider, &provider)?;
    emit!(ProviderRegistered {
        provider: a.provider.key(),
        authority,
        region: provider.region,
        payout: provider.payout,
    });
    Ok(())
}
