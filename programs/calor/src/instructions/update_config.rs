use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::events::ConfigUpdated;
use crate::state::{Config, ConfigParams};

/// Each field left `None` keeps its current value.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct UpdateConfigArgs {
    pub treasury: Option<Pubkey>,
    /// Validated as a whole; the governed settings (Calor price bounds, subsidy budget) must
    /// be left as they are (only a passed proposal changes them).
    pub params: Option<ConfigParams>,
    pub paused: Option<bool>,
}

#[derive(Accounts)]
pub struct UpdateConfig<'info> {
    #[account(mut, has_one = authority @ CalorError::NotConfigAuthority)]
    pub config: AccountLoader<'info, Config>,
    pub authority: Signer<'info>,
}

pub fn handler(ctx: Context<UpdateConfig>, args: UpdateConfigArgs) -> Result<()> {
    let mut config = ctx.accounts.config.load_mut()?;
    if let Some(treasury) = args.treasury {
        require_keys_neq!(treasury, Pubkey::default(), CalorError::InvalidTreasury);
        config.treasury = treasury;
    }
    if let Some(params) = args.params {
        params.validate()?;
        require!(
            params.same_governed_settings(&config.params),
            CalorError::GovernedSetting
        );
        config.params = params;
    }
    if let Some(paused) = args.paused {
        config.paused = u8::from(paused);
    }
    emit!(ConfigUpdated {
        treasury: config.treasury,
        params: config.params,
        paused: config.is_paused(),
    });
    Ok(())
}
