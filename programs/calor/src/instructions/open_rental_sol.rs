use anchor_lang::prelude::*;

use crate::constants::RENTAL_SEED;
use crate::errors::CalorError;
use crate::instructions::rental_rules::{
    emit_opened, open_value, queued_rental, rental_priority, validate_open, OpenRentalArgs,
};
use crate::oracle;
use crate::pda_accounts::{create_pda, space_of, write_new};
use crate::state::{Config, GpuModel, PaymentKind, Region, Rental, Stake, StakePool};

/// The renter pays for `hours` in SOL at the Pyth SOL/USD price; the lamports stay in the
/// rental account, on top of its rent.
///
/// Account proofs (see docs/accounts.md): `config`, `gpu_model`, `region` and `stake_pool`
/// exist only at their PDAs (the program creates them nowhere else), so owner and
/// discriminator prove them; the region's id is compared with the pin; `stake` is checked
/// to belong to the renter; `rental` is created here at the PDA of the renter, the id and
/// the given bump (the runtime checks the seeds).
#[derive(Accounts)]
pub struct OpenRentalSol<'info> {
    pub config: AccountLoader<'info, Config>,
    pub gpu_model: AccountLoader<'info, GpuModel>,
    /// Present exactly when the rental is pinned to a region (checked in `validate_open`).
    pub region: Option<AccountLoader<'info, Region>>,
    /// CHECK: created in the handler at `[RENTAL_SEED, renter, id, bump]`; the system program
    /// refuses the CPI unless those seeds sign for this address.
    #[account(mut)]
    pub rental: UncheckedAccount<'info>,
    /// CHECK: a Pyth `PriceUpdateV2`: owner, discriminator and verification checked by
    /// `oracle::PriceMessage::load`, feed, age and confidence by `PriceMessage::check`.
    pub price_update: UncheckedAccount<'info>,
    /// The renter's stake, for routing priority (owner checked in `rental_priority`; a
    /// `Stake` only exists at its PDA). Written: a prioritised rental holds its tier.
    #[account(mut)]
    pub stake: Option<Box<Account<'info, Stake>>>,
    /// Needed with `stake`, for the current epoch.
    pub stake_pool: Option<Box<Account<'info, StakePool>>>,
    #[account(mut)]
    pub renter: Signer<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<OpenRentalSol>, args: OpenRentalArgs) -> Result<()> {
    let a = ctx.accounts;
    let config = a.config.load()?;
    let region = a.region.as_ref().map(|r| r.load()).transpose()?;
    let gpu_model = a.gpu_model.load()?;
    validate_open(&config, &gpu_model, region.as_deref(), &args)?;
    let usd = open_value(&config, &args, PaymentKind::Sol)?;
    let now = Clock::get()?.unix_timestamp;
    let lamports =
        oracle::usd_to_lamports(&a.price_update, &config.params.sol_usd_oracle, now, usd)?;
    require!(
        lamports <= args.max_payment,
        CalorError::PaymentAboveMaximum
    );
    let renter = a.renter.key();
    let priority = rental_priority(
        &config,
        &renter,
        a.stake.as_deref_mut().map(|s| &mut **s),
        a.stake_pool.as_deref().map(|p| &**p),
    )?;

    let space = space_of::<Rental>();
    let rent = Rent::get()?.minimum_balance(space);
    let id = args.id.to_le_bytes();
    create_pda(
        &a.renter,
        &a.rental,
        &a.system_program,
        &crate::ID,
        space,
        rent.checked_add(lamports).ok_or(CalorError::MathOverflow)?,
        &[RENTAL_SEED, renter.as_ref(), &id, &[args.bump]],
    )?;
    let mut rental = queued_rental(
        renter,
        &args,
        gpu_model.id,
        &config.params,
        PaymentKind::Sol,
        now,
        priority,
    );
    rental.push_purchase(args.hours, lamports)?;
    write_new(&a.rental, &rental)?;
    emit_opened(a.rental.key(), &rental, usd, 0);
    Ok(())
}
