use anchor_lang::prelude::*;

/// A governance proposal, voted on with stake as it stood when it was made. PDA:
/// `[PROPOSAL_SEED, id]`.
#[account]
#[derive(InitSpace, Debug)]
pub struct Proposal {
    pub id: u64,
    pub proposer: Pubkey,
    pub action: ProposalAction,
    pub created_at: i64,
    /// Only stake unchanged since before this slot may vote.
    pub snapshot_slot: u64,
    /// All stake in the pool at the snapshot: the base of the quorum.
    pub snapshot_total_stake: u64,
    pub voting_ends_at: i64,
    pub votes_for: u64,
    pub votes_against: u64,
    pub executed: bool,
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
}
