//! One event per state change, so indexers and the provisioner can follow the program from logs.
use anchor_lang::prelude::*;

use crate::state::{ConfigParams, EndReason, PaymentKind, ProposalAction, RentalState};

#[event]
pub struct ConfigInitialized {
    pub config: Pubkey,
    pub authority: Pubkey,
    pub treasury: Pubkey,
    pub calor_mint: Pubkey,
    pub protocol_fee_bps: u16,
    pub burn_bps: u16,
    pub calor_subsidy_bps: u16,
    pub min_rental_micro_usd: u64,
}

#[event]
pub struct ConfigUpdated {
    pub treasury: Pubkey,
    pub params: ConfigParams,
    pub paused: bool,
}

#[event]
pub struct AuthorityTransferProposed {
    pub authority: Pubkey,
    pub pending_authority: Option<Pubkey>,
}

#[event]
pub struct AuthorityTransferred {
    pub old_authority: Pubkey,
    pub new_authority: Pubkey,
}

#[event]
pub struct CalorPricePosted {
    pub price_micro_usd: u64,
    pub posted_at: i64,
}

#[event]
pub struct GpuModelChanged {
    pub gpu_model: Pubkey,
    pub id: u16,
    pub name: String,
    pub active: bool,
}

#[event]
pub struct RegionChanged {
    pub region: Pubkey,
    pub id: u16,
    pub code: String,
    pub active: bool,
}

#[event]
pub struct ProviderRegistered {
    pub provider: Pubkey,
    pub authority: Pubkey,
    pub region: u16,
    pub payout: Pubkey,
}

#[event]
pub struct ProviderApprovalChanged {
    pub provider: Pubkey,
    pub approved: bool,
}

#[event]
pub struct NodeChanged {
    pub node: Pubkey,
    pub provider: Pubkey,
    pub gpu_model: u16,
    pub region: u16,
    pub gpu_count: u8,
    pub hourly_rate_micro_usd: u64,
    pub online: bool,
}

#[event]
pub struct NodeHeartbeat {
    pub node: Pubkey,
    pub at: i64,
}

#[event]
pub struct RentalOpened {
    pub rental: Pubkey,
    pub renter: Pubkey,
    pub gpu_model: u16,
    pub region: Option<u16>,
    pub hours: u32,
    pub hourly_rate_micro_usd: u64,
    pub payment: PaymentKind,
    /// What the renter paid (lamports or Calor base units).
    pub escrowed: u64,
    /// Its USD value at the price used (after the Calor subsidy).
    pub usd_paid_micro: u64,
    /// Calor the subsidy vault reserved for it (0 for SOL).
    pub subsidy_reserved: u64,
    pub priority: u8,
}

#[event]
pub struct RentalClaimed {
    pub rental: Pubkey,
    pub node: Pubkey,
    pub provider: Pubkey,
}

#[event]
pub struct RentalStarted {
    pub rental: Pubkey,
    pub node: Pubkey,
    pub started_at: i64,
    pub ends_at: i64,
}

#[event]
pub struct RentalExtended {
    pub rental: Pubkey,
    pub added_hours: u32,
    pub added_escrow: u64,
    pub usd_paid_micro: u64,
    pub subsidy_reserved: u64,
    pub ends_at: i64,
}

#[event]
pub struct RentalEnded {
    pub rental: Pubkey,
    pub reason: EndReason,
    pub state: RentalState,
    pub served_secs: u32,
}

#[event]
pub struct RentalSettled {
    pub rental: Pubkey,
    pub payment: PaymentKind,
    pub provider_amount: u64,
    /// The protocol fee in all, of which `staker_rewards` went to the rewards vault (Calor).
    pub fee: u64,
    pub staker_rewards: u64,
    pub burned: u64,
    /// Returned to the renter, or held for `claim_refund` when `refund_held`.
    pub refund: u64,
    pub refund_held: bool,
    /// Calor taken from the subsidy vault for the time served (subsidy and burn).
    pub subsidy_drawn: u64,
}

/// A held refund reached the renter.
#[event]
pub struct RefundClaimed {
    pub rental: Pubkey,
    pub renter: Pubkey,
    pub amount: u64,
}

#[event]
pub struct EarningsWithdrawn {
    /// The program account the lamports left: a provider PDA or the config (fees).
    pub from: Pubkey,
    pub to: Pubkey,
    pub lamports: u64,
}

#[event]
pub struct StakingInitialized {
    pub stake_pool: Pubkey,
    pub stake_vault: Pubkey,
    pub rewards_vault: Pubkey,
    pub subsidy_pool: Pubkey,
    pub subsidy_vault: Pubkey,
}

/// Calor entered (`funded`) or left to the treasury (`withdrawn`) the subsidy vault.
#[event]
pub struct SubsidyVaultChanged {
    pub funded: u64,
    pub withdrawn: u64,
    pub vault_balance: u64,
    pub reserved: u64,
}

/// `stake`, `add_stake` and `unstake`: `amount` entered (positive) or left the stake.
#[event]
pub struct StakeChanged {
    pub owner: Pubkey,
    pub deposited: u64,
    pub withdrawn: u64,
    pub active: u64,
    pub pending: u64,
    pub epoch: u64,
}

#[event]
pub struct EpochAdvanced {
    pub epoch: u64,
    pub distributed: u64,
    pub active_stake: u64,
    pub acc_reward_per_share: u128,
}

#[event]
pub struct RewardsClaimed {
    pub owner: Pubkey,
    pub amount: u64,
}

#[event]
pub struct ProposalCreated {
    pub proposal: Pubkey,
    pub id: u64,
    pub proposer: Pubkey,
    pub action: ProposalAction,
    pub high_impact: bool,
    pub snapshot_total_stake: u64,
    pub voting_ends_at: i64,
    pub executable_at: i64,
    pub expires_at: i64,
}

#[event]
pub struct ProposalVetoed {
    pub proposal: Pubkey,
    pub authority: Pubkey,
}

#[event]
pub struct VoteCast {
    pub proposal: Pubkey,
    pub voter: Pubkey,
    pub approve: bool,
    pub weight: u64,
    /// The stake cannot be withdrawn before this.
    pub locked_until: i64,
}

#[event]
pub struct ProposalExecuted {
    pub proposal: Pubkey,
    pub action: ProposalAction,
}
