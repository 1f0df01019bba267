use anchor_lang::prelude::*;

use crate::constants::{CONFIG_SEED, PROPOSAL_SEED, STAKE_POOL_SEED, STAKE_SEED};
use crate::errors::CalorError;
use crate::events::ProposalCreated;
use crate::state::{Config, Proposal, ProposalAction, Stake, StakePool};

/// A staker holding at least `min_stake_to_propose` puts an action to a vote. The snapshot
/// is taken now: only stake unchanged since before this slot may vote, and the quorum is
/// counted against all stake in the pool at this moment.
#[derive(Accounts)]
pub struct Propose<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [STAKE_POOL_SEED], bump = stake_pool.bump)]
    pub stake_pool: Box<Account<'info, StakePool>>,
    #[account(seeds = [STAKE_SEED, proposer.key().as_ref()], bump = stake.bump,
              constraint = stake.owner == proposer.key() @ CalorError::NotStakeOwner)]
    pub stake: Box<Account<'info, Stake>>,
    #[account(init, payer = proposer, space = 8 + Proposal::INIT_SPACE,
              seeds = [PROPOSAL_SEED, &stake_pool.proposal_count.to_le_bytes()], bump)]
    pub proposal: Box<Account<'info, Proposal>>,
    #[account(mut)]
    pub proposer: Signer<'info>,
    pub system_program: Program<'info, System>,
}

impl Propose<'_> {
    pub fn validate(&self, action: &ProposalAction) -> Result<()> {
        require!(!self.config.paused, CalorError::Paused);
        require!(
            self.stake.total() >= self.config.params.staking.min_stake_to_propose,
            CalorError::InsufficientStakeToPropose
        );
        match action {
            ProposalAction::SetFees { .. } => {
                // the same checks `update_config` makes, so a passed vote can always execute
                // unless other settings changed in between
                apply_fees(&self.config, action)?;
            }
            ProposalAction::SetProviderApproval { .. } => {}
            ProposalAction::TransferAuthority { new_authority } => require_keys_neq!(
                *new_authority,
                Pubkey::default(),
                CalorError::InvalidAuthority
            ),
        }
        Ok(())
    }
}

/// The config params with a `SetFees` action applied, validated.
pub fn apply_fees(config: &Config, action: &ProposalAction) -> Result<crate::state::ConfigParams> {
    let mut params = config.params.clone();
    if let ProposalAction::SetFees {
        protocol_fee_bps,
        burn_bps,
        calor_subsidy_bps,
    } = *action
    {
        params.protocol_fee_bps = protocol_fee_bps;
        params.burn_bps = burn_bps;
        params.calor_subsidy_bps = calor_subsidy_bps;
    }
    params.validate()?;
    Ok(params)
}

pub fn handler(ctx: Context<Propose>, action: ProposalAction) -> Result<()> {
    ctx.accounts.validate(&action)?;
    let clock = Clock::get()?;
    let voting_secs = i64::from(ctx.accounts.config.params.staking.voting_period_secs);
    let pool = &mut ctx.accounts.stake_pool;
    let id = pool.proposal_count;
    pool.proposal_count += 1;
    let proposal = &mut ctx.accounts.proposal;
    proposal.set_inner(Proposal {
        id,
        proposer: ctx.accounts.proposer.key(),
        action,
        created_at: clock.unix_timestamp,
        snapshot_slot: clock.slot,
        snapshot_total_stake: pool.total_stake(),
        voting_ends_at: clock.unix_timestamp + voting_secs,
        votes_for: 0,
        votes_against: 0,
        executed: false,
        bump: ctx.bumps.proposal,
    });
    emit!(ProposalCreated {
        proposal: proposal.key(),
        id,
        proposer: proposal.proposer,
        action,
        snapshot_total_stake: proposal.snapshot_total_stake,
        voting_ends_at: proposal.voting_ends_at,
    });
    Ok(())
}
