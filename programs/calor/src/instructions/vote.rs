use anchor_lang::prelude::*;

use crate::constants::VOTE_SEED;
use crate::errors::CalorError;
use crate::events::VoteCast;
use crate::pda_accounts::{init_account, write_borsh};
use crate::state::{Config, Proposal, Stake, VoteRecord};

/// A staker votes, once per proposal, with its stake that was seasoned before the proposal's
/// epoch (deposited two epochs before it or earlier); the stake is then held until the vote
/// ends, so the same tokens cannot vote again from another wallet.
///
/// Account proofs: `config`, `proposal` by owner and discriminator; `stake` by its `owner`
/// being the voter; `vote_record` at `[VOTE_SEED, proposal, voter]`.
#[derive(Accounts)]
pub struct Vote<'info> {
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub proposal: Box<Account<'info, Proposal>>,
    #[account(mut, constraint = stake.owner == voter.key() @ CalorError::NotStakeOwner)]
    pub stake: Box<Account<'info, Stake>>,
    /// CHECK: created by the vote at `[VOTE_SEED, proposal, voter]`; a second vote finds it
    /// (`AlreadyVoted`).
    #[account(mut)]
    pub vote_record: UncheckedAccount<'info>,
    #[account(mut)]
    pub voter: Signer<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<Vote>, approve: bool) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = ctx.accounts;
    require!(!a.config.load()?.is_paused(), CalorError::Paused);
    require!(a.vote_record.data_is_empty(), CalorError::AlreadyVoted);
    require!(!a.proposal.vetoed, CalorError::ProposalVetoed);
    require!(now < a.proposal.voting_ends_at, CalorError::VotingClosed);
    let weight = a.stake.deposits.seasoned(a.proposal.created_epoch);
    require!(weight > 0, CalorError::NoVotingPower);
    let proposal = &mut a.proposal;
    let tally = if approve {
        &mut proposal.votes_for
    } else {
        &mut proposal.votes_against
    };
    *tally = tally.checked_add(weight).ok_or(CalorError::MathOverflow)?;
    a.stake.lock_until(proposal.voting_ends_at);
    let (proposal_key, voter) = (proposal.key(), a.voter.key());
    let bump = init_account(
        &a.voter,
        &a.vote_record,
        &a.system_program,
        &[VOTE_SEED, proposal_key.as_ref(), voter.as_ref()],
        8 + VoteRecord::INIT_SPACE,
    )?;
    write_borsh(
        &a.vote_record,
        &VoteRecord {
            proposal: proposal_key,
            voter,
            approve,
            weight,
            bump,
        },
    )?;
    emit!(VoteCast {
        proposal: proposal.key(),
        voter: a.voter.key(),
        approve,
        weight,
        locked_until: a.stake.locked_until,
    });
    Ok(())
}
