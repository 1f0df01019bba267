//! Stake-weighted governance: only seasoned stake proposes and votes, votes hold the stake,
//! high-impact actions need a higher quorum and wait out a timelock the authority can veto,
//! passed proposals expire, and the config authority can be handed to a multisig.
use calor::errors::CalorError;
use calor::instructions::UpdateConfigArgs;
use calor::state::{Proposal, ProposalAction, Provider};
use calor_client::{instructions as ix, pda};
use calor_tests::fixtures::CALOR;
use calor_tests::market::Market;
use calor_tests::outcome::OutcomeExt;
use solana_keypair::Keypair;
use solana_signer::Signer;

const VOTING_SECS: i64 = 3 * 86_400;
const TIMELOCK_SECS: i64 = 2 * 86_400;
const WINDOW_SECS: i64 = 7 * 86_400;

fn fees(protocol_fee_bps: u16, burn_bps: u16, calor_subsidy_bps: u16) -> ProposalAction {
    ProposalAction::SetFees {
        protocol_fee_bps,
        burn_bps,
        calor_subsidy_bps,
    }
}

#[test]
fn a_passed_fee_proposal_waits_out_its_timelock_and_changes_the_config_once() {
    let mut m = Market::new();
    let whale = m.seasoned_staker(50_000 * CALOR);
    let late = m.seasoned_staker(10_000 * CALOR);
    let minnow = m.seasoned_staker(500 * CALOR);

    m.try_propose(&minnow, fees(300, 1_000, 6_000))
        .1
        .expect_calor_err(CalorError::InsufficientStakeToPropose);
    m.try_propose(&whale, fees(300, 1_000, 9_000))
        .1
        .expect_calor_err(CalorError::SubsidyTooHigh);
    let (id, out) = m.try_propose(&whale, fees(300, 1_000, 6_000));
    out.expect_ok("propose");
    let p: Proposal = m.env.decode(&pda::proposal(id));
    assert_eq!(p.snapshot_total_stake, 60_500 * CALOR);
    assert!(p.high_impact);
    assert_eq!(p.quorum_bps, 4_000);
    assert_eq!(p.executable_at, p.voting_ends_at + TIMELOCK_SECS);

    m.env.advance_secs(1);
    m.try_vote(&whale, id, true).expect_ok("vote");
    m.try_vote(&whale, id, false)
        .expect_calor_err(CalorError::AlreadyVoted);
    // stake added after the proposal does not vote: only the seasoned 10,000 count
    m.try_stake(&late, 5_000 * CALOR).expect_ok("add stake");
    m.try_vote(&late, id, false)
        .expect_ok("vote with seasoned stake");
    let outsider = m.staker();
    m.try_vote(&outsider, id, true)
        .expect_err("no stake account");
    // a vote holds the stake until the vote ends
    m.try_unstake(&whale, CALOR)
        .expect_calor_err(CalorError::StakeLocked);

    m.try_execute(id, None)
        .expect_calor_err(CalorError::VotingNotEnded);
    m.env.advance_secs(VOTING_SECS);
    m.try_vote(&minnow, id, true)
        .expect_calor_err(CalorError::VotingClosed);
    m.try_execute(id, None)
        .expect_calor_err(CalorError::TimelockNotOver);
    m.try_unstake(&whale, CALOR)
        .expect_ok("free again once the vote ended");
    m.env.advance_secs(TIMELOCK_SECS);
    m.try_execute(id, None).expect_ok("execute");
    let params = m.config().params;
    assert_eq!(
        (
            params.protocol_fee_bps,
            params.burn_bps,
            params.calor_subsidy_bps
        ),
        (300, 1_000, 6_000)
    );
    m.try_execute(id, None)
        .expect_calor_err(CalorError::ProposalAlreadyExecuted);
    let p: Proposal = m.env.decode(&pda::proposal(id));
    assert_eq!(
        (p.votes_for, p.votes_against),
        (50_000 * CALOR, 10_000 * CALOR)
    );
}

#[test]
fn quorum_and_majority_decide() {
    let mut m = Market::new();
    let whale = m.seasoned_staker(50_000 * CALOR);
    let other = m.seasoned_staker(20_000 * CALOR);
    let minnow = m.seasoned_staker(1_000 * CALOR);
    let provider = m.operator.provider;
    let revoke = ProposalAction::SetProviderApproval {
        provider,
        approved: false,
    };

    // 1,000 of 71,000 voted: under the 20% quorum
    let (low, out) = m.try_propose(&minnow, revoke);
    out.expect_ok("propose");
    m.env.advance_secs(1);
    m.try_vote(&minnow, low, true).expect_ok("vote");
    // voted down: 20,000 for, 50,000 against
    let (down, out) = m.try_propose(&other, revoke);
    out.expect_ok("propose");
    m.env.advance_secs(1);
    m.try_vote(&other, down, true).expect_ok("vote for");
    m.try_vote(&whale, down, false).expect_ok("vote against");
    // passes: the whale for
    let (up, out) = m.try_propose(&whale, revoke);
    out.expect_ok("propose");
    m.env.advance_secs(1);
    m.try_vote(&whale, up, true).expect_ok("vote");

    m.env.advance_secs(VOTING_SECS);
    m.try_execute(low, Some(provider))
        .expect_calor_err(CalorError::QuorumNotReached);
    m.try_execute(down, Some(provider))
        .expect_calor_err(CalorError::ProposalRejected);
    m.try_execute(up, None)
        .expect_calor_err(CalorError::WrongProvider);
    let wrong = m.add_operator(calor_tests::market::EU_WEST).provider;
    m.try_execute(up, Some(wrong))
        .expect_calor_err(CalorError::WrongProvider);
    // a provider approval is not high-impact: no timelock, and no veto
    m.try_veto(up).expect_calor_err(CalorError::NotVetoable);
    m.try_execute(up, Some(provider)).expect_ok("execute");
    let p: Provider = m.env.decode(&provider);
    assert!(!p.is_approved());
}

#[test]
fn high_impact_proposals_need_the_higher_quorum_can_be_vetoed_and_expire() {
    let mut m = Market::new();
    let a = m.seasoned_staker(30_000 * CALOR);
    let _b = m.seasoned_staker(70_000 * CALOR);
    // 30% votes: enough for an ordinary proposal (20%), not for a fee change (40%)
    let (fee_change, out) = m.try_propose(&a, fees(400, 2_000, 5_000));
    out.expect_ok("propose");
    m.env.advance_secs(1);
    m.try_vote(&a, fee_change, true).expect_ok("vote");
    m.env.advance_secs(VOTING_SECS + TIMELOCK_SECS);
    m.try_execute(fee_change, None)
        .expect_calor_err(CalorError::QuorumNotReached);

    // the authority vetoes a passed authority transfer during its timelock
    let whale = m.seasoned_staker(500_000 * CALOR);
    let grab = ProposalAction::TransferAuthority {
        new_authority: whale.key(),
    };
    let (id, out) = m.try_propose(&whale, grab);
    out.expect_ok("propose");
    m.env.advance_secs(1);
    m.try_vote(&whale, id, true).expect_ok("vote");
    m.env.advance_secs(VOTING_SECS);
    let stranger = m.env.funded_keypair();
    m.env
        .send(&[ix::veto_proposal(stranger.pubkey(), id)], &stranger, &[])
        .expect_calor_err(CalorError::NotConfigAuthority);
    m.try_veto(id).expect_ok("veto");
    m.env.advance_secs(TIMELOCK_SECS);
    m.try_execute(id, None)
        .expect_calor_err(CalorError::ProposalVetoed);
    m.try_veto(id).expect_calor_err(CalorError::NotVetoable);
    assert_eq!(m.config().authority, m.authority.pubkey());

    // a passed fee change left past its execution window lapses instead of overwriting
    // newer settings months later
    let (old, out) = m.try_propose(&whale, fees(900, 2_000, 5_000));
    out.expect_ok("propose");
    m.env.advance_secs(1);
    m.try_vote(&whale, old, true).expect_ok("vote");
    m.env
        .advance_secs(VOTING_SECS + TIMELOCK_SECS + WINDOW_SECS);
    m.try_execute(old, None)
        .expect_calor_err(CalorError::ProposalExpired);
    assert_eq!(m.config().params.protocol_fee_bps, 500);
}

#[test]
fn governance_and_a_multisig_authority_both_work() {
    let mut m = Market::new();
    let whale = m.seasoned_staker(50_000 * CALOR);
    let admin = m.authority.insecure_clone();
    // a multisig's vault address stands in as the new authority; it signs through its program
    let multisig = Keypair::new();
    m.env.fund(&multisig.pubkey(), 1_000_000_000);

    m.try_propose(
        &whale,
        ProposalAction::TransferAuthority {
            new_authority: anchor_lang::prelude::Pubkey::default(),
        },
    )
    .1
    .expect_calor_err(CalorError::InvalidAuthority);
    let (id, out) = m.try_propose(
        &whale,
        ProposalAction::TransferAuthority {
            new_authority: multisig.pubkey(),
        },
    );
    out.expect_ok("propose");
    m.env.advance_secs(1);
    m.try_vote(&whale, id, true).expect_ok("vote");
    m.env.advance_secs(VOTING_SECS + TIMELOCK_SECS);
    m.try_execute(id, None).expect_ok("execute");
    assert_eq!(m.config().authority, multisig.pubkey());

    let unpause = |authority| {
        ix::update_config(
            authority,
            UpdateConfigArgs {
                paused: Some(false),
                ..Default::default()
            },
        )
    };
    m.env
        .send(&[unpause(admin.pubkey())], &admin, &[])
        .expect_calor_err(CalorError::NotConfigAuthority);
    m.env
        .send(&[unpause(multisig.pubkey())], &multisig, &[])
        .expect_ok("the multisig governs");
    // and the multisig can hand it on by the two-step transfer
    let next = m.env.funded_keypair();
    m.env
        .send(
            &[ix::transfer_authority(
                multisig.pubkey(),
                Some(next.pubkey()),
            )],
            &multisig,
            &[],
        )
        .expect_ok("propose transfer");
    m.env
        .send(&[ix::accept_authority(next.pubkey())], &next, &[])
        .expect_ok("accept");
    assert_eq!(m.config().authority, next.pubkey());
}

#[test]
fn governed_settings_change_through_proposals() {
    let mut m = Market::new();
    let whale = m.seasoned_staker(50_000 * CALOR);
    let mut price = m.config().params.calor_price;
    price.max_micro_usd = 5_000_000;
    price.max_move_bps_per_hour = 500;
    let (id, out) = m.try_propose(
        &whale,
        ProposalAction::SetCalorPriceParams { params: price },
    );
    out.expect_ok("propose price bounds");
    let (budget, out) = m.try_propose(&whale, ProposalAction::SetSubsidyBudget { per_epoch: 42 });
    out.expect_ok("propose budget");
    m.env.advance_secs(1);
    m.try_vote(&whale, id, true).expect_ok("vote");
    m.try_vote(&whale, budget, true).expect_ok("vote");
    m.env.advance_secs(VOTING_SECS + TIMELOCK_SECS);
    m.try_execute(id, None).expect_ok("execute");
    m.try_execute(budget, None).expect_ok("execute");
    let params = m.config().params;
    assert_eq!(params.calor_price, price);
    assert_eq!(params.subsidy_budget_per_epoch, 42);
}
