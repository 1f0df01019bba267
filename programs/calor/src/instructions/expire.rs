use anchor_lang::prelude::*;

use crate::constants::RENTAL_SEED;
use crate::errors::CalorError;
use crate::instructions::rental_rules::end_rental;
use crate::state::{EndReason, Node, Rental, RentalState};

/// Anyone may end a rental whose paid time has run out; the provider is paid in full.
#[derive(Accounts)]
pub struct Expire<'info> {
    #[account(mut, seeds = [RENTAL_SEED, rental.renter.as_ref(), &rental.id.to_le_bytes()],
              bump = rental.bump)]
    pub rental: Box<Account<'info, Rental>>,
    #[account(mut, constraint = rental.node == Some(node.key()) @ CalorError::WrongNode)]
    pub node: Box<Account<'info, Node>>,
}

pub fn handler(ctx: Context<Expire>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = ctx.accounts;
    require!(
        a.rental.state == RentalState::Running,
        CalorError::RentalNotRunning
    );
    require!(now >= a.rental.ends_at, CalorError::RentalNotExpired);
    let served = a.rental.paid_secs();
    end_rental(
        &mut a.rental,
        Some(&mut a.node),
        RentalState::Completed,
        served,
        EndReason::Expired,
    )
}
