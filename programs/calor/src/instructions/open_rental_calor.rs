use anchor_lang::prelude::*;
use anchor_spl::token_interface::{
    transfer_checked, Mint, TokenAccount, TokenInterface, TransferChecked,
};

use crate::constants::{ESCROW_SEED, RENTAL_SEED};
use crate::errors::CalorError;
use crate::instructions::open_rental_sol::emit_opened;
use crate::instructions::rental_rules::{rental_priority, validate_open, OpenRentalArgs};
use crate::state::{Config, GpuModel, PaymentKind, Region, Rental, RentalState, Stake, StakePool};
use crate::{math, oracle};

#[derive(Accounts)]
#[instruction(args: OpenRentalArgs)]
pub struct OpenRentalCalor<'info> {
    // Config, GpuModel and Region accounts are only ever created at their PDAs (by
    // `initialize` and the catalog instructions), so `Account`'s owner and discriminator
    // checks already prove what they are; re-deriving the addresses here would cost
    // 1,500 CU each on the busiest instruction.
    pub config: Box<Account<'info, Config>>,
    pub gpu_model: Box<Account<'info, GpuModel>>,
    /// Present exactly when the rental is pinned to a region (checked in `validate_open`).
    pub region: Option<Box<Account<'info, Region>>>,
    #[account(init, payer = renter, space = 8 + Rental::INIT_SPACE,
              seeds = [RENTAL_SEED, renter.key().as_ref(), &args.id.to_le_bytes()], bump)]
    pub rental: Box<Account<'info, Rental>>,
    #[account(address = config.calor_mint @ CalorError::WrongMint,
              mint::token_program = token_program)]
    pub calor_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, token::mint = calor_mint, token::authority = renter,
              token::token_program = token_program)]
    pub renter_token: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The rental's own token account: only the rental PDA can move what is in it.
    #[account(init, payer = renter,
              seeds = [ESCROW_SEED, rental.key().as_ref()], bump,
              token::mint = calor_mint, token::authority = rental,
              token::token_program = token_program)]
    pub escrow: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The renter's stake, for routing priority (owner checked in `rental_priority`; a
    /// `Stake` only exists at its PDA).
    pub stake: Option<Box<Account<'info, Stake>>>,
    /// Required here (not only with `stake`): settling a Calor rental pays the stakers'
    /// share into the pool's rewards vault, so a Calor rental may only exist once staking
    /// is set up, or its settlement could never run.
    pub stake_pool: Box<Account<'info, StakePool>>,
    #[account(mut)]
    pub renter: Signer<'info>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<OpenRentalCalor>, args: OpenRentalArgs) -> Result<()> {
    let a = &ctx.accounts;
    validate_open(
        &a.config,
        &a.gpu_model,
        a.region.as_deref().map(|r| &**r),
        &args,
    )?;
    let priority = rental_priority(
        &a.config,
        &a.renter.key(),
        a.stake.as_deref().map(|s| &**s),
        Some(&**a.stake_pool),
    )?;
    let market = math::usd_cost(args.hourly_rate_micro_usd, args.hours)?;
    let usd = math::subsidised_usd(market, a.config.params.calor_subsidy_bps)?;
    require!(
        usd >= a.config.params.min_rental_micro_usd,
        CalorError::BelowMinimumRental
    );
    let now = Clock::get()?.unix_timestamp;
    let tokens = oracle::usd_to_calor(&a.config, now, usd)?;

    transfer_checked(
        CpiContext::new(
            a.token_program.key(),
            TransferChecked {
                from: a.renter_token.to_account_info(),
                mint: a.calor_mint.to_account_info(),
                to: a.escrow.to_account_info(),
                authority: a.renter.to_account_info(),
            },
        ),
        tokens,
        a.calor_mint.decimals,
    )?;
    // What arrived, not what was sent: a Token-2022 transfer fee would otherwise leave the
    // escrow owing more than it holds.
    ctx.accounts.escrow.reload()?;
    let received = ctx.accounts.escrow.amount;
    let rental = &mut ctx.accounts.rental;
    rental.set_inner(Rental {
        renter: ctx.accounts.renter.key(),
        id: args.id,
        gpu_model: ctx.accounts.gpu_model.id,
        region: args.region,
        node: None,
        payee: Pubkey::default(),
        hourly_rate_micro_usd: args.hourly_rate_micro_usd,
        hours: args.hours,
        payment: PaymentKind::Calor,
        escrowed: received,
        usd_paid_micro: usd,
        protocol_fee_bps: ctx.accounts.config.params.protocol_fee_bps,
        burn_bps: ctx.accounts.config.params.burn_bps,
        created_at: now,
        claimed_at: 0,
        started_at: 0,
        ends_at: 0,
        served_secs: 0,
        state: RentalState::Queued,
        priority,
        escrow_bump: ctx.bumps.escrow,
        bump: ctx.bumps.rental,
        ssh_public_key: args.ssh_public_key,
    });
    emit_opened(rental);
    Ok(())
}
