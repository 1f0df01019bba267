use anchor_lang::prelude::*;

use crate::constants::PROPOSAL_SEED;
use crate::errors::CalorError;
use crate::events::ProposalCreated;
use crate::pda_accounts::{init_account, write_borsh};
use crate::state::{Config, ConfigParams, Proposal, ProposalAction, Stake, StakePool};

/// A staker whose seasoned stake (active for a whole epoch) reaches `min_stake_to_propose`
/// puts an action to a vote. The quorum's base (all stake now), the quorum, the timelock and
/// the execution window are fixed now; the proposer's stake is held until the vote ends.
///
/// Account proofs: `config`, `stake_pool` by owner and discriminator (singletons); `stake` by
/// its `owner` being the proposer (a stake exists only at its owner's PDA); `proposal` is
/// created at `[PROPOSAL_SEED, proposal_count]`.
#[derive(Accounts)]
pub struct Propose<'info> {
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub stake_pool: Box<Account<'info, StakePool>>,
    #[account(mut, constraint = stake.owner == proposer.key() @ CalorError::NotStakeOwner)]
    pub stake: Box<Account<'info, Stake>>,
    /// CHECK: created here at `[PROPOSAL_SEED, proposal_count]`.
    #[account(mut)]
    pub proposal: UncheckedAccount<'info>,
    #[account(mut)]
    pub proposer: Signer<'info>,
    pub system_program: Program<'info, System>,
}

/// The config params with an action applied, validated (what `execute_proposal` will set).
pub fn apply_action(params: &ConfigParams, action: &ProposalAction) -> Result<ConfigParams> {
    let mut params = *params;
    match *action {
        ProposalAction::SetFees {
            protocol_fee_bps,
            burn_bps,
            calor_subsidy_bps,
        } => {
            params.protocol_fee_bps = protocol_fee_bps;
            params.burn_bps = burn_bps;
            params.calor_subsidy_bps = calor_subsidy_bps;
        }
        ProposalAction::SetCalorPriceParams { params: price } => params.calor_price = price,
        ProposalAction::SetSubsidyBudget { per_epoch } => {
            params.subsidy_budget_per_epoch = per_epoch
        }
        ProposalAction::SetProviderApproval { .. } | ProposalAction::TransferAuthority { .. } => {}
    }
    params.validate()?;
    Ok(params)
}

pub fn handler(ctx: Context<Propose>, action: ProposalAction) -> Result<()> {
    let clock = Clock::get()?;
    let a = ctx.accounts;
    let config = a.config.load()?;
    require!(!config.is_paused(), CalorError::Paused);
    let staking = &config.params.staking;
    require!(
        a.stake.deposits.seasoned(a.stake_pool.epoch) >= staking.min_stake_to_propose,
        CalorError::InsufficientStakeToPropose
    );
    // the same checks `update_config` makes, so a passed vote can always execute unless
    // other settings changed in between
    apply_action(&config.params, &action)?;
    if let ProposalAction::TransferAuthority { new_authority } = action {
        require_keys_neq!(
            new_authority,
            Pubkey::default(),
            CalorError::InvalidAuthority
        );
    }
    let high_impact = action.is_high_impact();
    let (quorum_bps, timelock) = if high_impact {
        (staking.high_impact_quorum_bps, staking.timelock_secs)
    } else {
        (staking.quorum_bps, 0)
    };
    let now = clock.unix_timestamp;
    let voting_ends_at = now + i64::from(staking.voting_period_secs);
    let executable_at = voting_ends_at + i64::from(timelock);
    let pool = &mut a.stake_pool;
    let id = pool.proposal_count;
    let bump = init_account(
        &a.proposer,
        &a.proposal,
        &a.system_program,
        &[PROPOSAL_SEED, &id.to_le_bytes()],
        8 + Proposal::INIT_SPACE,
    )?;
    pool.proposal_count += 1;
    a.stake.lock_until(voting_ends_at);
    let proposal = Proposal {
        id,
        proposer: a.proposer.key(),
        action,
        created_at: now,
        created_epoch: pool.epoch,
        snapshot_total_stake: pool.total_stake(),
        quorum_bps,
        voting_ends_at,
        executable_at,
        expires_at: executable_at + i64::from(staking.execution_window_secs),
        votes_for: 0,
        votes_against: 0,
        high_impact,
        executed: false,
        vetoed: false,
        bump,
    };
    write_borsh(&a.proposal, &proposal)?;
    emit!(ProposalCreated {
        proposal: a.proposal.key(),
        id,
        proposer: proposal.proposer,
        action,
        high_impact,
        snapshot_total_stake: proposal.snapshot_total_stake,
        voting_ends_at,
        executable_at,
        expires_at: proposal.expires_at,
    });
    Ok(())
}
