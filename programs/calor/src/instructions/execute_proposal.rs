use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::events::{
    AuthorityTransferred, ProposalExecuted, ProposalVetoed, ProviderApprovalChanged,
};
use crate::instructions::propose::apply_action;
use crate::math;
use crate::state::{Config, Proposal, ProposalAction, Provider};

/// Anyone, once the vote (and for high-impact actions the timelock) is over and before the
/// execution window closes, carries out a proposal that reached its quorum with more votes
/// for than against and was not vetoed. Once.
///
/// Account proofs: `config`, `proposal`, `provider` by owner and discriminator; the provider
/// must be the one the proposal names.
#[derive(Accounts)]
pub struct ExecuteProposal<'info> {
    #[account(mut)]
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub proposal: Box<Account<'info, Proposal>>,
    /// The provider a `SetProviderApproval` proposal names (checked in `validate`).
    #[account(mut)]
    pub provider: Option<AccountLoader<'info, Provider>>,
}

impl ExecuteProposal<'_> {
    pub fn validate(&self, now: i64) -> Result<()> {
        let p = &self.proposal;
        require!(!self.config.load()?.is_paused(), CalorError::Paused);
        require!(!p.executed, CalorError::ProposalAlreadyExecuted);
        require!(!p.vetoed, CalorError::ProposalVetoed);
        require!(now >= p.voting_ends_at, CalorError::VotingNotEnded);
        require!(now >= p.executable_at, CalorError::TimelockNotOver);
        require!(now < p.expires_at, CalorError::ProposalExpired);
        let votes = p
            .votes_for
            .checked_add(p.votes_against)
            .ok_or(CalorError::MathOverflow)?;
        require!(
            math::quorum_reached(votes, p.snapshot_total_stake, p.quorum_bps),
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
    let a = ctx.accounts;
    let action = a.proposal.action;
    let mut config = a.config.load_mut()?;
    match action {
        ProposalAction::SetProviderApproval { approved, .. } => {
            let provider = a.provider.as_ref().ok_or(CalorError::WrongProvider)?;
            provider.load_mut()?.approved = u8::from(approved);
            emit!(ProviderApprovalChanged {
                provider: provider.key(),
                approved,
            });
        }
        ProposalAction::TransferAuthority { new_authority } => {
            let old_authority = config.authority;
            config.authority = new_authority;
            config.pending_authority = Pubkey::default();
            emit!(AuthorityTransferred {
                old_authority,
                new_authority,
            });
        }
        _ => config.params = apply_action(&config.params, &action)?,
    }
    a.proposal.executed = true;
    emit!(ProposalExecuted {
        proposal: a.proposal.key(),
        action,
    });
    Ok(())
}

/// The config authority stops a high-impact proposal before it executes (during its vote or
/// its timelock): the check on governance taken over by borrowed or bought stake.
#[derive(Accounts)]
pub struct VetoProposal<'info> {
    #[account(has_one = authority @ CalorError::NotConfigAuthority)]
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub proposal: Box<Account<'info, Proposal>>,
    pub authority: Signer<'info>,
}

pub fn veto_handler(ctx: Context<VetoProposal>) -> Result<()> {
    let p = &mut ctx.accounts.proposal;
    require!(
        p.high_impact && !p.executed && !p.vetoed,
        CalorError::NotVetoable
    );
    p.vetoed = true;
    emit!(ProposalVetoed {
        proposal: p.key(),
        authority: ctx.accounts.authority.key(),
    });
    Ok(())
}
