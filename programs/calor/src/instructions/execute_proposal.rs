use anchor_lang::prelude::*;

use crate::constants::{CONFIG_SEED, PROPOSAL_SEED};
use crate::errors::CalorError;
use crate::events::{AuthorityTransferred, ProposalExecuted, ProviderApprovalChanged};
use crate::instructions::propose::apply_fees;
use crate::math;
use crate::state::{Config, Proposal, ProposalAction, Provider};

/// Anyone, after the voting period, carries out a proposal that reached its quorum with
/// more votes for than against. Once.
#[derive(Accounts)]
pub struct ExecuteProposal<'info> {
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [PROPOSAL_SEED, &proposal.id.to_le_bytes()], bump = proposal.bump)]
    pub proposal: Box<Account<'info, Proposal>>,
    /// The provider a `SetProviderApproval` proposal names (checked in `validate`).
    #[account(mut)]
    pub provider: Option<Box<Account<'info, Provider>>>,
}

impl ExecuteProposal<'_> {
    pub fn validate(&self, now: i64) -> Result<()> {
        let p = &self.proposal;
        require!(!self.config.paused, CalorError::Paused);
        require!(!p.executed, CalorError::ProposalAlreadyExecuted);
        require!(now >= p.voting_ends_at, CalorError::VotingNotEnded);
        let votes = p
            .votes_for
            .checked_add(p.votes_against)
            .ok_or(CalorError::MathOverflow)?;
        require!(
            math::quorum_reached(
                votes,
                p.snapshot_total_stake,
                self.config.params.staking.quorum_bps
            ),
            CalorError::QuorumNotReached
        );
        require!(p.votes_for > p.votes_against, CalorError::ProposalRejected);
        if let ProposalAction::SetProviderApproval { provider, .. } = p.action {
            let given = self.provider.as_ref().map(|a| a.key());
            require!(given == Some(provider), CalorError::WrongProvider);
        }
        Ok(())
    }
}

pub fn handler(ctx: Context<ExecuteProposal>) -> Result<()> {
    ctx.accounts.validate(Clock::get()?.unix_timestamp)?;
    let a = &mut *ctx.accounts;
    let action = a.proposal.action;
    match action {
        ProposalAction::SetFees { .. } => {
            a.config.params = apply_fees(&a.config, &action)?;
        }
        ProposalAction::SetProviderApproval { approved, .. } => {
            let provider = a.provider.as_mut().ok_or(CalorError::WrongProvider)?;
            provider.approved = approved;
            emit!(ProviderApprovalChanged {
                provider: provider.key(),
                approved,
            });
        }
        ProposalAction::TransferAuthority { new_authority } => {
            let old_authority = a.config.authority;
            a.config.authority = new_authority;
            a.config.pending_authority = None;
            emit!(AuthorityTransferred {
                old_authority,
                new_authority,
            });
        }
    }
    a.proposal.executed = true;
    emit!(ProposalExecuted {
        proposal: a.proposal.key(),
        action,
    });
    Ok(())
}
