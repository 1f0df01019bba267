use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::instructions::provider_rental::ProviderRental;
use crate::instructions::rental_rules::end_rental;
use crate::state::{EndReason, RentalState};

/// The provider could not start the instance: provisioning → failed, nothing is paid.
/// Allowed while paused (it returns funds).
pub fn handler(ctx: Context<ProviderRental>) -> Result<()> {
    let a = ctx.accounts;
    a.require_serving_node()?;
    require!(
        a.rental.state == RentalState::Provisioning,
        CalorError::RentalNotProvisioning
    );
    end_rental(
        &mut a.rental,
        Some(&mut a.node),
        RentalState::Failed,
        0,
        EndReason::Failed,
    )
}
