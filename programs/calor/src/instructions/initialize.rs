use anchor_lang::prelude::*;

use crate::constants::CONFIG_SEED;
use crate::errors::CalorError;
use crate::events::ConfigInitialized;
use crate::pda_accounts::{init_account, space_of, write_new};
use crate::state::{Config, ConfigParams};
use crate::token_checks::check_calor_mint;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitializeArgs {
    pub treasury: Pubkey,
    pub params: ConfigParams,
}

#[derive(Accounts)]
pub struct Initialize<'info> {
    /// CHECK: created here at `[CONFIG_SEED]`: a singleton, so a second `initialize` fails
    /// (`AlreadyExists`).
    #[account(mut)]
    pub config: UncheckedAccount<'info>,

    /// CHECK: the Calor mint: owned by SPL Token or Token-2022 and initialised
    /// (`token::mint_decimals`), without a freeze authority or a harmful extension
    /// (`check_calor_mint`).
    pub calor_mint: UncheckedAccount<'info>,

    #[account(mut)]
    pub authority: Signer<'info>,

    /// CHECK: this program's account (`address`); its `ProgramData` address is read in
    /// `upgrade_authority`.
    #[account(address = crate::ID)]
    pub program: UncheckedAccount<'info>,

    /// CHECK: the program's `ProgramData` (checked in `upgrade_authority`). Whoever controls
    /// upgrades controls initialization, so nobody can front-run the deployment with a config
    /// of their own.
    pub program_data: UncheckedAccount<'info>,

    pub system_program: Program<'info, System>,
}

/// The upgradeable loader's account layouts (bincode, read in place: decoding them with the
/// loader's own types would link serde into the program).
const LOADER_PROGRAM_TAG: u32 = 2;
const LOADER_PROGRAM_DATA_TAG: u32 = 3;

fn tag(data: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(..4)?.try_into().ok()?))
}

impl Initialize<'_> {
    /// The upgrade authority recorded in this program's `ProgramData` (`None` once the
    /// program is immutable).
    fn upgrade_authority(&self) -> Result<Option<Pubkey>> {
        use anchor_lang::solana_program::bpf_loader_upgradeable::ID as LOADER;
        let program = self.program.try_borrow_data()?;
        // Program { programdata_address }
        require!(
            *self.program.owner == LOADER && tag(&program) == Some(LOADER_PROGRAM_TAG),
            CalorError::NotUpgradeAuthority
        );
        require!(
            program.get(4..36) == Some(self.program_data.key.as_ref()),
            CalorError::NotUpgradeAuthority
        );
        // ProgramData { slot: u64, upgrade_authority_address: Option<Pubkey> }
        let data = self.program_data.try_borrow_data()?;
        require!(
            *self.program_data.owner == LOADER
                && tag(&data) == Some(LOADER_PROGRAM_DATA_TAG)
                && data.len() >= 45,
            CalorError::NotUpgradeAuthority
        );
        Ok((data[12] == 1).then(|| Pubkey::try_from(&data[13..45]).expect("32 bytes")))
    }

    /// Checks the signer, the settings and the mint; returns the mint's decimals.
    pub fn validate(&self, args: &InitializeArgs) -> Result<u8> {
        require!(
            self.upgrade_authority()? == Some(self.authority.key()),
            CalorError::NotUpgradeAuthority
        );
        require_keys_neq!(
            args.treasury,
            Pubkey::default(),
            CalorError::InvalidTreasury
        );
        let decimals = crate::token::mint_decimals(&self.calor_mint)?;
        check_calor_mint(&self.calor_mint.try_borrow_data()?)?;
        args.params.validate()?;
        Ok(decimals)
    }
}

pub fn handler(ctx: Context<Initialize>, args: InitializeArgs) -> Result<()> {
    let decimals = ctx.accounts.validate(&args)?;
    let a = ctx.accounts;
    let bump = init_account(
        &a.authority,
        &a.config,
        &a.system_program,
        &[CONFIG_SEED],
        space_of::<Config>(),
    )?;
    let config = Config {
        authority: a.authority.key(),
        pending_authority: Pubkey::default(),
        treasury: args.treasury,
        calor_mint: a.calor_mint.key(),
        calor_price_micro_usd: 0,
        calor_price_posted_at: 0,
        params: args.params,
        calor_decimals: decimals,
        paused: 0,
        bump,
        _padding: [0; 5],
    };
    write_new(&a.config, &config)?;
    emit!(ConfigInitialized {
        config: a.config.key(),
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
