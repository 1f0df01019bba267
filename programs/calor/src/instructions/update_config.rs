use anchor_lang::prelude::*;

use crate::constants::CONFIG_SEED;
use crate::errors::CalorError;
use crate::events::ConfigUpdated;
use crate::state::{Config, ConfigParams};

/// Each field left `None` keeps its current value.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct UpdateConfigArgs {
    pub treasury: Option<Pubkey>,
    pub params: Option<ConfigParams>,
    pub paused: Option<bool>,
}

#[derive(Accounts)]
pub struct UpdateConfig<'info> {
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump,
              has_one = authority @ CalorError::NotConfigAuthority)]
    pub config: Box<Account<'info, Config>>,
    pub authority: Signer<'info>,
}

impl UpdateConfig<'_> {
    pub fn validate(&self, args: &UpdateConfigArgs) -> Result<()> {
        if let Some(treasury) = args.treasury {
            require_keys_neq!(treasury, Pubkey::default(), CalorError::InvalidTreasury);
        }
        if let Some(params) = &args.params {
            params.validate()?;
        }
        Ok(())
    }
}

pub fn handler(ctx: Context<UpdateConfig>, args: UpdateConfigArgs) -> Result<()> {
    ctx.accounts.validate(&args)?;
    let config = &mut ctx.accounts.config;
    if let Some(treasury) = args.treasury {
        config.treasury = treasury;
    }
    if let Some(params) = args.params {
        config.params = params;
    }
    if let Some(paused) = args.paused {
        config.paused = paused;
    }
    emit!(ConfigUpdated {
        treasury: config.treasury,
        params: config.params.clone(),
        paused: config.paused,
    });
    Ok(())
}
