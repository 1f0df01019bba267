use anchor_lang::prelude::*;

/// One stake's vote on one proposal; its existence prevents a second vote. PDA:
/// `[VOTE_SEED, proposal, voter]`.
#[account]
#[derive(InitSpace, Debug)]
pub struct VoteRecord {
    pub proposal: Pubkey,
    /// The stake owner; the default address until the vote is cast.
    pub voter: Pubkey,
    pub approve: bool,
    pub weight: u64,
    pub bump: u8,
}
