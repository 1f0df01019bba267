use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::instructions::provider_rental::{
    require_operator, require_serving_node, ProviderRental,
};
use crate::instructions::rental_rules::end_rental;
use crate::state::{EndReason, RentalState};

/// The provider could not start the instance: provisioning → failed, nothing is paid.
/// Allowed while paused (it returns funds).
pub fn handler(ctx: Context<ProviderRental>) -> Result<()> {
    let a = ctx.accounts;
    let mut node = a.node.load_mut()?;
    let mut rental = a.rental.load_mut()?;
    require_operator(&node, &a.authority)?;
    require_serving_node(&rental, &a.node)?;
    require!(
        rental.state() == RentalState::Provisioning,
        CalorError::RentalNotProvisioning
    );
    end_rental(
        a.rental.key(),
        &mut rental,
        Some(&mut node),
        RentalState::Failed,
        0,
        EndReason::Failed,
    )
}
