//! The accounts a provider signs with to act on a rental served by one of its nodes.
use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::state::{Config, Node, Provider, Rental};

/// `start` and `fail`.
///
/// Account proofs (see docs/accounts.md): `config`, `node` and `rental` exist only at their
/// PDAs, so owner and discriminator prove their type; the signer is the node's `authority`
/// (copied from its provider at listing), and the rental must name this node.
#[derive(Accounts)]
pub struct ProviderRental<'info> {
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub node: AccountLoader<'info, Node>,
    #[account(mut)]
    pub rental: AccountLoader<'info, Rental>,
    pub authority: Signer<'info>,
}

/// `claim`: as above, plus the node's provider, for its approval and payout wallet.
#[derive(Accounts)]
pub struct ClaimRental<'info> {
    pub config: AccountLoader<'info, Config>,
    /// Proven by being the node's `provider` (checked in the handler).
    pub provider: AccountLoader<'info, Provider>,
    #[account(mut)]
    pub node: AccountLoader<'info, Node>,
    #[account(mut)]
    pub rental: AccountLoader<'info, Rental>,
    pub authority: Signer<'info>,
}

/// The signer operates `node`.
pub fn require_operator(node: &Node, signer: &Signer) -> Result<()> {
    require_keys_eq!(node.authority, signer.key(), CalorError::Unauthorized);
    Ok(())
}

/// `node` is the one the rental was claimed by.
pub fn require_serving_node(rental: &Rental, node: &AccountLoader<Node>) -> Result<()> {
    require_keys_eq!(rental.node, node.key(), CalorError::WrongNode);
    Ok(())
}
