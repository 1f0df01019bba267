//! The accounts a provider signs with to act on a rental served by one of its nodes.
use anchor_lang::prelude::*;

use crate::constants::{CONFIG_SEED, NODE_SEED, PROVIDER_SEED, RENTAL_SEED};
use crate::errors::CalorError;
use crate::state::{Config, Node, Provider, Rental};

#[derive(Accounts)]
pub struct ProviderRental<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(seeds = [PROVIDER_SEED, authority.key().as_ref()], bump = provider.bump,
              has_one = authority @ CalorError::Unauthorized)]
    pub provider: Box<Account<'info, Provider>>,
    #[account(mut, seeds = [NODE_SEED, provider.key().as_ref(), &node.index.to_le_bytes()],
              bump = node.bump, has_one = provider @ CalorError::WrongNode)]
    pub node: Box<Account<'info, Node>>,
    #[account(mut, seeds = [RENTAL_SEED, rental.renter.as_ref(), &rental.id.to_le_bytes()],
              bump = rental.bump)]
    pub rental: Box<Account<'info, Rental>>,
    pub authority: Signer<'info>,
}

impl ProviderRental<'_> {
    /// The node must be the one the rental was claimed by.
    pub fn require_serving_node(&self) -> Result<()> {
        require!(
            self.rental.node == Some(self.node.key()),
            CalorError::WrongNode
        );
        Ok(())
    }
}
