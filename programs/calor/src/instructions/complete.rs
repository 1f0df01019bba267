use anchor_lang::prelude::*;

use crate::constants::RENTAL_SEED;
use crate::errors::CalorError;
use crate::instructions::rental_rules::{end_rental, served_until};
use crate::state::{EndReason, Node, Provider, Rental, RentalState};

/// The renter or the provider stops a running rental early; the provider is paid for the
/// seconds served, the rest is refunded at settlement.
#[derive(Accounts)]
pub struct Complete<'info> {
    #[account(mut, seeds = [RENTAL_SEED, rental.renter.as_ref(), &rental.id.to_le_bytes()],
              bump = rental.bump)]
    pub rental: Box<Account<'info, Rental>>,
    #[account(mut, constraint = rental.node == Some(node.key()) @ CalorError::WrongNode)]
    pub node: Box<Account<'info, Node>>,
    #[account(address = node.provider @ CalorError::WrongNode)]
    pub provider: Box<Account<'info, Provider>>,
    pub signer: Signer<'info>,
}

impl Complete<'_> {
    pub fn validate(&self) -> Result<()> {
        let who = self.signer.key();
        require!(
            who == self.rental.renter || who == self.provider.authority,
            CalorError::Unauthorized
        );
        require!(
            self.rental.state == RentalState::Running,
            CalorError::RentalNotRunning
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<Complete>) -> Result<()> {
    ctx.accounts.validate()?;
    let now = Clock::get()?.unix_timestamp;
    let a = ctx.accounts;
    let served = served_until(&a.rental, now);
    let reason = if now >= a.rental.ends_at {
        EndReason::Expired
    } else {
        EndReason::Completed
    };
    end_rental(
        &mut a.rental,
        Some(&mut a.node),
        RentalState::Completed,
        served,
        reason,
    )
}
