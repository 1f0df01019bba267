//! SOL rentals through their whole life, every balance checked to the lamport.
use calor::events::{RentalEnded, RentalOpened, RentalSettled};
use calor::state::{EndReason, NodeStatus, PaymentKind, RentalState};
use calor_client::{instructions as ix, pda};
use calor_tests::market::{Market, H100_SXM, RATE};
use calor_tests::outcome::OutcomeExt;
use solana_signer::Signer;

const FEE: u64 = 5_000;
/// 2 h × $2.50 = $5.00 at the conservative SOL price $149.90 (150.00 − 0.10):
/// 5 / 149.9 SOL = 33,355,570.38… lamports, rounded up against the renter.
const ESCROW_2H: u64 = 33_355_571;

#[test]
fn open_claim_start_complete_settle() {
    let mut m = Market::new();
    let (renter, _) = m.renter();
    let rental = pda::rental(&renter.pubkey(), 7);
    let node = m.operator.node(0);
    let operator = m.operator.authority.insecure_clone();

    let renter_start = m.env.lamports(&renter.pubkey());
    let open = m
        .try_open_sol(&renter, H100_SXM, Market::open_args(7, 2))
        .expect_ok("open");
    let rent = m.env.lamports(&rental) - ESCROW_2H;
    assert_eq!(
        rent,
        m.env
            .rent_exempt(m.env.account(&rental).unwrap().data.len())
    );
    assert_eq!(
        m.env.lamports(&renter.pubkey()),
        renter_start - ESCROW_2H - rent - FEE
    );
    let r = m.rental(&rental);
    assert_eq!(
        (r.state(), r.payment(), r.escrowed),
        (RentalState::Queued, PaymentKind::Sol, ESCROW_2H)
    );
    assert_eq!(open.events::<RentalOpened>()[0].usd_paid_micro, 5_000_000);
    assert_eq!(
        (r.hours, r.hourly_rate_micro_usd, r.node()),
        (2, RATE, None)
    );
    // only the key's hash is stored; the line itself stays in the opening transaction
    assert_eq!(
        r.ssh_key_hash,
        solana_sha256_hasher::hash(calor_tests::market::SSH_KEY.as_bytes()).to_bytes()
    );
    println!(
        "open_rental_sol: {} CU, rent {rent} lamports",
        open.compute_units
    );

    m.provider_op(ix::claim, &operator, 0, rental)
        .expect_ok("claim");
    let r = m.rental(&rental);
    assert_eq!(
        (r.state(), r.node(), r.payee),
        (RentalState::Provisioning, Some(node), m.operator.provider)
    );
    let n = m.node_state(&node);
    assert_eq!(
        (n.status(), n.current_rental()),
        (NodeStatus::Busy, Some(rental))
    );

    m.provider_op(ix::start, &operator, 0, rental)
        .expect_ok("start");
    let r = m.rental(&rental);
    assert_eq!(r.state(), RentalState::Running);
    assert_eq!(r.ends_at - r.started_at, 7_200);

    // one hour in, the renter stops it
    m.env.advance_secs(3_600);
    let done = m.complete(&renter, &rental).expect_ok("complete");
    let ended = done.events::<RentalEnded>();
    assert_eq!(
        (ended[0].reason, ended[0].served_secs),
        (EndReason::Completed, 3_600)
    );
    assert_eq!(m.node_state(&node).status(), NodeStatus::Idle);

    // a third party cranks the settlement
    let cranker = m.env.funded_keypair();
    let renter_before = m.env.lamports(&renter.pubkey());
    let provider_before = m.env.lamports(&m.operator.provider);
    let config_before = m.env.lamports(&pda::config().0);
    let settled = m.settle_sol(&rental, &cranker).expect_ok("settle");
    // spent = ⌊33,355,571 / 2⌋ = 16,677,785; fee 5% = 833,889; provider 15,843,896
    let e = &settled.events::<RentalSettled>()[0];
    assert_eq!(
        (e.provider_amount, e.fee, e.burned, e.refund),
        (15_843_896, 833_889, 0, 16_677_786)
    );
    assert_eq!(
        m.env.lamports(&m.operator.provider) - provider_before,
        15_843_896
    );
    assert_eq!(m.env.lamports(&pda::config().0) - config_before, 833_889);
    assert_eq!(
        m.env.lamports(&renter.pubkey()) - renter_before,
        16_677_786 + rent
    );
    assert!(m.env.account(&rental).is_none(), "rental closed");
    // nothing created or lost: the renter paid exactly the served share, fees of its own txs
    assert_eq!(
        renter_start - m.env.lamports(&renter.pubkey()),
        16_677_785 + 2 * FEE
    );
}

#[test]
fn expiry_pays_the_provider_in_full_and_earnings_can_be_withdrawn() {
    let mut m = Market::new();
    let (renter, _) = m.renter();
    let node = m.operator.node(0);
    let operator = m.operator.authority.insecure_clone();
    let rental = m.running_sol_rental(&renter, 1, 2);

    let stranger = m.env.funded_keypair();
    m.env.advance_secs(7_199);
    m.env
        .send(&[ix::expire(rental, node)], &stranger, &[])
        .expect_calor_err(calor::errors::CalorError::RentalNotExpired);
    m.env.advance_secs(1);
    m.env
        .send(&[ix::expire(rental, node)], &stranger, &[])
        .expect_ok("expire");
    assert_eq!(m.rental(&rental).served_secs, 7_200);
    let settled = m.settle_sol(&rental, &stranger).expect_ok("settle");
    // fee 5% of 33,355,571 = 1,667,778 (rounded down); provider gets the rest
    let e = &settled.events::<RentalSettled>()[0];
    assert_eq!(
        (e.provider_amount, e.fee, e.refund),
        (ESCROW_2H - 1_667_778, 1_667_778, 0)
    );

    // provider earnings leave the provider PDA for the payout wallet, down to its rent
    let payout = m.operator.payout.pubkey();
    let payout_before = m.env.lamports(&payout);
    m.env
        .send(
            &[ix::withdraw_provider_earnings(operator.pubkey(), payout)],
            &operator,
            &[],
        )
        .expect_ok("withdraw");
    assert_eq!(
        m.env.lamports(&payout) - payout_before,
        ESCROW_2H - 1_667_778
    );
    let provider_acc = m.env.account(&m.operator.provider).unwrap();
    assert_eq!(
        provider_acc.lamports,
        m.env.rent_exempt(provider_acc.data.len())
    );
    m.env
        .send(
            &[ix::withdraw_provider_earnings(operator.pubkey(), payout)],
            &operator,
            &[],
        )
        .expect_calor_err(calor::errors::CalorError::NothingToWithdraw);

    // fees leave the config PDA for the treasury (anyone may sweep)
    let treasury = m.protocol.treasury.pubkey();
    m.env.fund(&treasury, 1_000_000_000);
    let before = m.env.lamports(&treasury);
    m.env
        .send(&[ix::sweep_fees(treasury)], &stranger, &[])
        .expect_ok("sweep");
    assert_eq!(m.env.lamports(&treasury) - before, 1_667_778);
}

#[test]
fn extend_adds_hours_at_the_current_price() {
    let mut m = Market::new();
    let (renter, _) = m.renter();
    let rental = m.running_sol_rental(&renter, 3, 2);
    let before = m.rental(&rental);
    m.env.advance_secs(1_800);
    m.refresh_sol_price();
    let lamports_before = m.env.lamports(&rental);
    // 1 h × $2.50 at $149.90 = 16,677,785.19… → 16,677,786 lamports
    let extended = m
        .env
        .send(
            &[ix::extend_sol(
                renter.pubkey(),
                rental,
                m.price_update,
                Market::extend_args(1),
            )],
            &renter,
            &[],
        )
        .expect_ok("extend");
    let after = m.rental(&rental);
    assert_eq!(m.env.lamports(&rental) - lamports_before, 16_677_786);
    assert_eq!(after.escrowed, ESCROW_2H + 16_677_786);
    assert_eq!((after.hours, after.ends_at), (3, before.ends_at + 3_600));
    let purchases: Vec<_> = after.purchases().map(|p| (p.hours, p.amount)).collect();
    assert_eq!(purchases, vec![(2, ESCROW_2H), (1, 16_677_786)]);
    let e = &extended.events::<calor::events::RentalExtended>()[0];
    assert_eq!((e.added_hours, e.usd_paid_micro), (1, 2_500_000));
}

#[test]
fn every_exit_before_running_refunds_everything() {
    let mut m = Market::new();
    let (renter, _) = m.renter();
    let node = m.operator.node(0);
    let operator = m.operator.authority.insecure_clone();
    let start = m.env.lamports(&renter.pubkey());

    // cancel while queued
    let r1 = pda::rental(&renter.pubkey(), 1);
    m.try_open_sol(&renter, H100_SXM, Market::open_args(1, 2))
        .expect_ok("open");
    m.env
        .send(&[ix::cancel(renter.pubkey(), r1, None)], &renter, &[])
        .expect_ok("cancel");
    m.settle_sol(&r1, &renter).expect_ok("settle");
    assert_eq!(start - m.env.lamports(&renter.pubkey()), 3 * FEE);

    // provider fails to start it
    let r2 = pda::rental(&renter.pubkey(), 2);
    m.try_open_sol(&renter, H100_SXM, Market::open_args(2, 2))
        .expect_ok("open");
    m.provider_op(ix::claim, &operator, 0, r2)
        .expect_ok("claim");
    m.provider_op(ix::fail, &operator, 0, r2).expect_ok("fail");
    assert_eq!(m.rental(&r2).state(), RentalState::Failed);
    assert_eq!(m.node_state(&node).status(), NodeStatus::Idle);
    m.settle_sol(&r2, &renter).expect_ok("settle");
    assert_eq!(start - m.env.lamports(&renter.pubkey()), 5 * FEE);

    // stuck in provisioning: cancel after the queue timeout
    let r3 = pda::rental(&renter.pubkey(), 3);
    m.try_open_sol(&renter, H100_SXM, Market::open_args(3, 2))
        .expect_ok("open");
    m.provider_op(ix::claim, &operator, 0, r3)
        .expect_ok("claim");
    m.env.advance_secs(899);
    m.env
        .send(&[ix::cancel(renter.pubkey(), r3, Some(node))], &renter, &[])
        .expect_calor_err(calor::errors::CalorError::QueueTimeoutNotReached);
    m.env.advance_secs(1);
    m.env
        .send(&[ix::cancel(renter.pubkey(), r3, Some(node))], &renter, &[])
        .expect_ok("cancel");
    assert_eq!(m.node_state(&node).status(), NodeStatus::Idle);
    m.settle_sol(&r3, &renter).expect_ok("settle");
    assert_eq!(start - m.env.lamports(&renter.pubkey()), 9 * FEE);
}

#[test]
fn reclaim_pays_only_up_to_the_last_heartbeat() {
    let mut m = Market::new();
    let (renter, _) = m.renter();
    let node = m.operator.node(0);
    let operator = m.operator.authority.insecure_clone();
    let rental = m.running_sol_rental(&renter, 9, 2);
    m.env.advance_secs(1_800);
    m.heartbeat(&operator, 0).expect_ok("heartbeat");
    // then silence: 300 s is still fresh, 301 s is not
    m.env.advance_secs(300);
    m.env
        .send(&[ix::reclaim(renter.pubkey(), rental, node)], &renter, &[])
        .expect_calor_err(calor::errors::CalorError::HeartbeatFresh);
    m.env.advance_secs(1);
    let tx = m
        .env
        .send(&[ix::reclaim(renter.pubkey(), rental, node)], &renter, &[])
        .expect_ok("reclaim");
    let e = &tx.events::<RentalEnded>()[0];
    assert_eq!((e.reason, e.served_secs), (EndReason::Reclaimed, 1_800));
    assert_eq!(m.node_state(&node).status(), NodeStatus::Offline);
    let settled = m.settle_sol(&rental, &renter).expect_ok("settle");
    // a quarter of the escrow is spent: ⌊33,355,571 / 4⌋ = 8,338,892
    let e = &settled.events::<RentalSettled>()[0];
    assert_eq!(e.provider_amount + e.fee, 8_338_892);
    assert_eq!(e.refund, ESCROW_2H - 8_338_892);
}

#[test]
fn settlement_uses_the_fees_in_force_at_open() {
    use calor::instructions::UpdateConfigArgs;
    let mut m = Market::new();
    let (renter, _) = m.renter();
    let node = m.operator.node(0);
    let operator = m.operator.authority.insecure_clone();
    let rental = m.running_sol_rental(&renter, 1, 2);
    // the authority raises the fee to 30% while the rental runs
    let admin = m.authority.insecure_clone();
    let mut params = calor_tests::fixtures::default_params();
    params.protocol_fee_bps = 3_000;
    m.env
        .send(
            &[ix::update_config(
                admin.pubkey(),
                UpdateConfigArgs {
                    params: Some(params),
                    ..Default::default()
                },
            )],
            &admin,
            &[],
        )
        .expect_ok("raise fee");
    m.env.advance_secs(7_200);
    m.env
        .send(&[ix::expire(rental, node)], &operator, &[])
        .expect_ok("expire");
    let settled = m.settle_sol(&rental, &operator).expect_ok("settle");
    // still 5%: ⌊33,355,571 × 5%⌋ = 1,667,778
    assert_eq!(settled.events::<RentalSettled>()[0].fee, 1_667_778);
}
