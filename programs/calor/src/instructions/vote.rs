use anchor_lang::prelude::*;

use crate::constants::{CONFIG_SEED, PROPOSAL_SEED, STAKE_SEED, VOTE_SEED};
use crate::errors::CalorError;
use crate::events::VoteCast;
use crate::state::{Config, Proposal, Stake, VoteRecord};

/// A staker votes with all of its stake, once per proposal, if the stake did not change
/// since the proposal's snapshot (so the same tokens cannot vote twice through another
/// account).
#[derive(Accounts)]
pub struct Vote<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [PROPOSAL_SEED, &proposal.id.to_le_bytes()], bump = proposal.bump)]
    pub proposal: Box<Account<'info, Proposal>>,
    #[account(seeds = [STAKE_SEED, voter.key().as_ref()], bump = stake.bump,
              constraint = stake.owner == voter.key() @ CalorError::NotStakeOwner)]
    pub stake: Box<Account<'info, Stake>>,
    /// Created on the first vote; a second vote finds it filled in (`AlreadyVoted`).
    #[account(init_if_needed, payer = voter, space = 8 + VoteRecord::INIT_SPACE,
              seeds = [VOTE_SEED, proposal.key().as_ref(), voter.key().as_ref()], bump)]
    pub vote_record: Box<Account<'info, VoteRecord>>,
    #[account(mut)]
    pub voter: Signer<'info>,
    pub system_program: Program<'info, System>,
}

impl Vote<'_> {
    pub fn validate(&self, now: i64) -> Result<u64> {
        require!(!self.config.paused, CalorError::Paused);
        require!(
            self.vote_record.voter == Pubkey::default(),
            CalorError::AlreadyVoted
        );
        require!(now < self.proposal.voting_ends_at, CalorError::VotingClosed);
        require!(
            self.stake.last_changed_slot < self.proposal.snapshot_slot,
            CalorError::StakeChangedAfterSnapshot
        );
        let weight = self.stake.total();
        require!(weight > 0, CalorError::NoVotingPower);
        Ok(weight)
    }
}

pub fn handler(ctx: Context<Vote>, approve: bool) -> Result<()> {
    let weight = ctx.accounts.validate(Clock::get()?.unix_timestamp)?;
    let proposal = &mut ctx.accounts.proposal;
    let tally = if approve {
        &mut proposal.votes_for
    } else {
        &mut proposal.votes_against
    };
    *tally = tally.checked_add(weight).ok_or(CalorError::MathOverflow)?;
    ctx.accounts.vote_record.set_inner(VoteRecord {
        proposal: proposal.key(),
        voter: ctx.accounts.voter.key(),
        approve,
        weight,
        bump: ctx.bumps.vote_record,
    });
    emit!(VoteCast {
        proposal: proposal.key(),
        voter: ctx.accounts.voter.key(),
        approve,
        weight,
    });
    Ok(())
}
