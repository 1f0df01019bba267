use anchor_lang::prelude::*;

use crate::constants::RENTAL_SEED;
use crate::errors::CalorError;
use crate::instructions::rental_rules::end_rental;
use crate::state::{EndReason, Node, Rental, RentalState};

/// The renter withdraws a rental that has not started: at any time while queued, or while
/// provisioning once the queue timeout has passed since the claim. Nothing is paid.
#[derive(Accounts)]
pub struct Cancel<'info> {
    #[account(seeds = [crate::constants::CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, crate::state::Config>>,
    #[account(mut, seeds = [RENTAL_SEED, renter.key().as_ref(), &rental.id.to_le_bytes()],
              bump = rental.bump, has_one = renter @ CalorError::Unauthorized)]
    pub rental: Box<Account<'info, Rental>>,
    /// The claiming node; `None` while the rental is still queued.
    #[account(mut, constraint = rental.node == Some(node.key()) @ CalorError::WrongNode)]
    pub node: Option<Box<Account<'info, Node>>>,
    pub renter: Signer<'info>,
}

impl Cancel<'_> {
    pub fn validate(&self, now: i64) -> Result<()> {
        match self.rental.state {
            RentalState::Queued => Ok(()),
            RentalState::Provisioning => {
                require!(self.node.is_some(), CalorError::WrongNode);
                let deadline = self
                    .rental
                    .claimed_at
                    .saturating_add(i64::from(self.config.params.queue_timeout_secs));
                require!(now >= deadline, CalorError::QueueTimeoutNotReached);
                Ok(())
            }
            RentalState::Running => err!(CalorError::RentalAlreadyStarted),
            _ => err!(CalorError::RentalNotQueued),
        }
    }
}

pub fn handler(ctx: Context<Cancel>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.validate(now)?;
    let a = ctx.accounts;
    let node = a.node.as_deref_mut().map(|n| &mut **n);
    end_rental(
        &mut a.rental,
        node,
        RentalState::Cancelled,
        0,
        EndReason::Cancelled,
    )
}
