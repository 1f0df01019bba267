use anchor_lang::prelude::*;

use crate::state::CalorPriceParams;

/// A governance proposal. PDA: `[PROPOSAL_SEED, id]`.
///
/// Only stake seasoned before the proposal's epoch votes (see `DepositLedger::seasoned`), and
/// the settings that decide its fate (quorum, timelock, execution window) are copied in when
/// it is made, so later config changes cannot move its goalposts.
#[account]
#[derive(InitSpace, Debug)]
pub struct Proposal {
    pub id: u64,
    pub proposer: Pubkey,
    pub action: ProposalAction,
    pub created_at: i64,
    /// The stake pool's epoch at creation: votes count stake deposited two epochs before it.
    pub created_epoch: u64,
    /// All stake in the pool at creation: the base of the quorum.
    pub snapshot_total_stake: u64,
    pub quorum_bps: u16,
    pub voting_ends_at: i64,
    /// Earliest execution: the end of the vote, plus the timelock for high-impact actions.
    pub executable_at: i64,
    /// A passed proposal not executed by then has lapsed.
    pub expires_at: i64,
    pub votes_for: u64,
    pub votes_against: u64,
    pub high_impact: bool,
    pub executed: bool,
    /// Stopped by the config authority during its voting or timelock.
    pub vetoed: bool,
    pub bump: u8,
}

/// What a passed proposal does when executed.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProposalAction {
    /// Sets the protocol fee, burn and Calor subsidy (checked like `update_config`).
    SetFees {
        protocol_fee_bps: u16,
        burn_bps: u16,
        calor_subsidy_bps: u16,
    },
    /// Approves or revokes a provider.
    SetProviderApproval { provider: Pubkey, approved: bool },
    /// Hands the config authority to `new_authority` (for example a multisig vault).
    TransferAuthority { new_authority: Pubkey },
    /// Sets the bounds, maximum age and maximum move of the posted Calor/USD rate.
    SetCalorPriceParams { params: CalorPriceParams },
    /// Sets how much the subsidy vault may commit to new rentals per epoch.
    SetSubsidyBudget { per_epoch: u64 },
}

impl ProposalAction {
    /// Actions that move money or control: a higher quorum and a timelock with a veto.
    pub fn is_high_impact(&self) -> bool {
        !matches!(self, ProposalAction::SetProviderApproval { .. })
    }
}
