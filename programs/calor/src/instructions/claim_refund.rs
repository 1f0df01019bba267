use anchor_lang::prelude::*;

use crate::constants::{ESCROW_SEED, RENTAL_SEED};
use crate::errors::CalorError;
use crate::events::RefundClaimed;
use crate::instructions::settle_calor::{escrow_of, pay_refund_and_close};
use crate::state::{Config, Rental, RentalState};
use crate::token_checks::can_receive;

/// Pays a refund that settlement had to hold (the renter's token account could not receive
/// it then) into a token account of the renter's that can, and closes the escrow and the
/// rental, their rent to the renter. Anyone may send it: the money can only reach the renter.
///
/// Account proofs: as for `settle_calor` (`config`, `rental` by owner and discriminator,
/// `escrow` by its mint and owner and, as it is closed, by its PDA; `calor_mint` by the
/// config, `renter_token` by `can_receive`).
#[derive(Accounts)]
pub struct ClaimRefund<'info> {
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub rental: AccountLoader<'info, Rental>,
    /// CHECK: the rental's escrow, checked against its PDA in the handler.
    #[account(mut)]
    pub escrow: UncheckedAccount<'info>,
    /// CHECK: compared with `config.calor_mint`.
    pub calor_mint: UncheckedAccount<'info>,
    /// CHECK: a token account of the renter that can receive (`can_receive`).
    #[account(mut)]
    pub renter_token: UncheckedAccount<'info>,
    /// CHECK: receives the closed accounts' rent; must be the rental's `renter`.
    #[account(mut)]
    pub renter: UncheckedAccount<'info>,
    /// CHECK: SPL Token or Token-2022 (`token::require_token_program`).
    pub token_program: UncheckedAccount<'info>,
}

pub fn handler(ctx: Context<ClaimRefund>) -> Result<()> {
    let a = ctx.accounts;
    let config = a.config.load()?;
    let rental = a.rental.load()?;
    require!(
        rental.state() == RentalState::RefundHeld,
        CalorError::NoRefundHeld
    );
    require_keys_eq!(a.renter.key(), rental.renter, CalorError::Unauthorized);
    require_keys_eq!(a.calor_mint.key(), config.calor_mint, CalorError::WrongMint);
    crate::token::require_token_program(&a.token_program)?;
    let rental_key = a.rental.key();
    let amount = escrow_of(
        &a.escrow,
        &a.token_program.key(),
        &config.calor_mint,
        &rental_key,
    )?;
    require!(
        can_receive(
            &a.renter_token,
            &a.token_program.key(),
            &config.calor_mint,
            &rental.renter
        ),
        CalorError::UnusableTokenAccount
    );
    let decimals = config.calor_decimals;
    let renter = rental.renter;
    let id = rental.id.to_le_bytes();
    let seeds: &[&[u8]] = &[RENTAL_SEED, renter.as_ref(), &id, &[rental.bump]];
    let escrow_seeds: &[&[u8]] = &[ESCROW_SEED, rental_key.as_ref(), &[rental.escrow_bump]];
    drop(rental);
    pay_refund_and_close(
        &a.token_program,
        &a.calor_mint,
        &a.escrow,
        &a.renter_token,
        &a.rental,
        &a.renter,
        amount,
        decimals,
        &[seeds, escrow_seeds],
    )?;
    emit!(RefundClaimed {
        rental: rental_key,
        renter,
        amount,
    });
    Ok(())
}
