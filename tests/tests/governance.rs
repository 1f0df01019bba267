//! Stake-weighted governance: proposals, snapshot voting, quorum, execution, and the config
//! authority handed to a multisig.
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

fn fees(protocol_fee_bps: u16, burn_bps: u16, calor_subsidy_bps: u16) -> ProposalAction {
    ProposalAction::SetFees {
        protocol_fee_bps,
        burn_bps,
        calor_subsidy_bps,
    }
}

#[test]
fn a_passed_fee_proposal_changes_the_config_once() {
    let mut m = Market::new();
    let whale = m.active_staker(50_000 * CALOR);
    let late = m.active_staker(10_000 * CALOR);
    let minnow = m.active_staker(500 * CALOR);

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

    m.env.advance_secs(1);
    m.try_vote(&whale, id, true).expect_ok("vote");
    m.try_vote(&whale, id, false)
        .expect_calor_err(CalorError::AlreadyVoted);
    // stake moved after the snapshot cannot vote
    m.try_stake(&late, CALOR).expect_ok("add stake");
    m.try_vote(&late, id, false)
        .expect_calor_err(CalorError::StakeChangedAfterSnapshot);
    let outsider = m.staker();
    m.try_vote(&outsider, id, true)
        .expect_err("no stake account");

    m.try_execute(id, None)
        .expect_calor_err(CalorError::VotingNotEnded);
    m.env.advance_secs(VOTING_SECS);
    m.try_vote(&minnow, id, true)
        .expect_calor_err(CalorError::VotingClosed);
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
    assert_eq!((p.votes_for, p.votes_against), (50_000 * CALOR, 0));
}

#[test]
fn quorum_and_majority_decide() {
    let mut m = Market::new();
    let whale = m.active_staker(50_000 * CALOR);
    let other = m.active_staker(20_000 * CALOR);
    let minnow = m.active_staker(1_000 * CALOR);
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
    m.try_execute(up, Some(provider)).expect_ok("execute");
    let p: Provider = m.env.decode(&provider);
    assert!(!p.approved);
}

#[test]
fn governance_and_a_multisig_authority_both_work() {
    let mut m = Market::new();
    let whale = m.active_staker(50_000 * CALOR);
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
    m.env.advance_secs(VOTING_SECS);
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
