use anchor_lang::prelude::*;

use crate::constants::{MAX_SSH_KEY_LEN, SECS_PER_HOUR};

/// One hourly rental and its escrow. PDA: `[RENTAL_SEED, renter, id]`.
///
/// SOL rentals hold the paid lamports in this account on top of its rent; Calor rentals hold
/// the paid tokens in the token account `[ESCROW_SEED, rental]`, whose authority is this PDA.
#[account]
#[derive(InitSpace, Debug)]
pub struct Rental {
    pub renter: Pubkey,
    /// Chosen by the renter; makes the address unique per renter.
    pub id: u64,
    pub gpu_model: u16,
    /// A pinned region, or any region when `None`.
    pub region: Option<u16>,
    /// The node serving it, once claimed.
    pub node: Option<Pubkey>,
    /// Who is paid for served time: the claiming provider's PDA (SOL) or payout wallet
    /// (Calor); the renter until a provider claims.
    pub payee: Pubkey,
    /// The offered price of one node-hour at market (before any Calor subsidy).
    pub hourly_rate_micro_usd: u64,
    /// Hours bought, extensions included.
    pub hours: u32,
    pub payment: PaymentKind,
    /// Lamports or Calor base units paid for time (rent not included).
    pub escrowed: u64,
    /// USD value paid, in micro-USD.
    pub usd_paid_micro: u64,
    /// The fee and burn shares in force when the rental was opened: settlement uses these,
    /// so a later config change cannot take more from a rental already paid for.
    pub protocol_fee_bps: u16,
    pub burn_bps: u16,
    pub created_at: i64,
    pub claimed_at: i64,
    pub started_at: i64,
    pub ends_at: i64,
    /// Seconds the provider is paid for, fixed when the rental ends.
    pub served_secs: u32,
    pub state: RentalState,
    /// Routing priority (from staking); higher is served first.
    pub priority: u8,
    pub escrow_bump: u8,
    pub bump: u8,
    /// The renter's `ssh-ed25519` public key, installed for root on the instance.
    #[max_len(MAX_SSH_KEY_LEN)]
    pub ssh_public_key: String,
}

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentKind {
    Sol,
    Calor,
}

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RentalState {
    Queued,
    Provisioning,
    Running,
    /// Served (fully, partly or not at all); waiting for `settle`.
    Completed,
    /// The provider could not start it: nothing is paid.
    Failed,
    /// Withdrawn by the renter before it ran: nothing is paid.
    Cancelled,
}

/// How a rental reached its end, for the `RentalEnded` event.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    Completed,
    Expired,
    Failed,
    Cancelled,
    Reclaimed,
}

impl Rental {
    pub fn paid_secs(&self) -> u64 {
        u64::from(self.hours) * u64::from(SECS_PER_HOUR)
    }

    pub fn is_ended(&self) -> bool {
        matches!(
            self.state,
            RentalState::Completed | RentalState::Failed | RentalState::Cancelled
        )
    }
}
