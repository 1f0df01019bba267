use anchor_lang::prelude::*;

use crate::constants::{ESCROW_SEED, RENTAL_SEED};
use crate::errors::CalorError;
use crate::instructions::rental_rules::{
    emit_opened, open_value, queued_rental, rental_priority, reserve_in_pool, validate_open,
    OpenRentalArgs,
};
use crate::pda_accounts::{create_pda, space_of, write_new};
use crate::state::{Config, GpuModel, PaymentKind, Region, Rental, Stake, StakePool, SubsidyPool};
use crate::{oracle, token};

/// The renter pays for `hours` in Calor at the posted rate, less the subsidy, into the
/// rental's own escrow token account; the subsidy vault reserves the rest of the market value
/// (and the burn it funds) for settlement.
///
/// Account proofs (see docs/accounts.md): `config`, `gpu_model`, `region`, `stake_pool` and
/// `subsidy_pool` exist only at their PDAs, so owner and discriminator prove them;
/// `calor_mint` and `subsidy_vault` are compared with the addresses those hold;
/// `renter_token` is checked by the token program during the transfer (mint, and the renter's
/// signature as its owner); `rental` and `escrow` are created here at their PDAs from the
/// given bumps (the runtime checks the seeds).
#[derive(Accounts)]
pub struct OpenRentalCalor<'info> {
    pub config: AccountLoader<'info, Config>,
    pub gpu_model: AccountLoader<'info, GpuModel>,
    /// Present exactly when the rental is pinned to a region (checked in `validate_open`).
    pub region: Option<AccountLoader<'info, Region>>,
    /// CHECK: created in the handler at `[RENTAL_SEED, renter, id, bump]`.
    #[account(mut)]
    pub rental: UncheckedAccount<'info>,
    /// CHECK: compared with `config.calor_mint` in the handler.
    pub calor_mint: UncheckedAccount<'info>,
    /// CHECK: a `calor_mint` account (checked in the handler) the renter owns (checked by the
    /// token program).
    #[account(mut)]
    pub renter_token: UncheckedAccount<'info>,
    /// CHECK: created in the handler at `[ESCROW_SEED, rental, escrow_bump]` and initialised as
    /// a token account whose owner is the rental PDA: only the program can move what is in it.
    #[account(mut)]
    pub escrow: UncheckedAccount<'info>,
    /// The renter's stake, for routing priority (owner checked in `rental_priority`).
    #[account(mut)]
    pub stake: Option<Box<Account<'info, Stake>>>,
    /// Needed with `stake`, for the current epoch.
    pub stake_pool: Option<Box<Account<'info, StakePool>>>,
    /// Created with the stake pool and its rewards vault: a Calor rental can only exist once
    /// everything its settlement pays into does.
    #[account(mut)]
    pub subsidy_pool: AccountLoader<'info, SubsidyPool>,
    /// CHECK: compared with `subsidy_pool.vault` (its balance is read in place).
    pub subsidy_vault: UncheckedAccount<'info>,
    #[account(mut)]
    pub renter: Signer<'info>,
    /// CHECK: SPL Token or Token-2022 (`token::require_token_program`); the mint's owner, or
    /// the escrow's initialisation fails.
    pub token_program: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<OpenRentalCalor>, args: OpenRentalArgs) -> Result<()> {
    let a = ctx.accounts;
    let config = a.config.load()?;
    crate::token::require_calor_account(&config, &a.calor_mint, &a.renter_token, &a.token_program)?;
    let region = a.region.as_ref().map(|r| r.load()).transpose()?;
    let gpu_model = a.gpu_model.load()?;
    validate_open(&config, &gpu_model, region.as_deref(), &args)?;
    let usd = open_value(&config, &args, PaymentKind::Calor)?;
    let now = Clock::get()?.unix_timestamp;
    let tokens = oracle::usd_to_calor(&config, now, usd)?;
    require!(tokens <= args.max_payment, CalorError::PaymentAboveMaximum);
    let renter = a.renter.key();
    let priority = rental_priority(
        &config,
        &renter,
        a.stake.as_deref_mut().map(|s| &mut **s),
        a.stake_pool.as_deref().map(|p| &**p),
    )?;
    let mut rental = queued_rental(
        renter,
        &args,
        gpu_model.id,
        &config.params,
        PaymentKind::Calor,
        now,
        priority,
    );
    rental.push_purchase(args.hours, tokens)?;
    let subsidy_reserved = reserve_in_pool(
        &a.subsidy_pool,
        &a.subsidy_vault,
        &config,
        &rental,
        tokens,
        now,
    )?;
    let rent = Rent::get()?;
    let rental_space = space_of::<Rental>();
    let id = args.id.to_le_bytes();
    create_pda(
        &a.renter,
        &a.rental,
        &a.system_program,
        &crate::ID,
        rental_space,
        rent.minimum_balance(rental_space),
        &[RENTAL_SEED, renter.as_ref(), &id, &[args.bump]],
    )?;
    let rental_key = a.rental.key();
    create_pda(
        &a.renter,
        &a.escrow,
        &a.system_program,
        a.token_program.key,
        token::ACCOUNT_LEN,
        rent.minimum_balance(token::ACCOUNT_LEN),
        &[ESCROW_SEED, rental_key.as_ref(), &[args.escrow_bump]],
    )?;
    token::initialize_account3(&a.token_program, &a.escrow, &a.calor_mint, &rental_key)?;
    token::transfer_checked(
        &a.token_program,
        &a.renter_token,
        &a.calor_mint,
        &a.escrow,
        &a.renter,
        tokens,
        config.calor_decimals,
        &[],
    )?;
    write_new(&a.rental, &rental)?;
    emit_opened(rental_key, &rental, usd, subsidy_reserved);
    Ok(())
}
