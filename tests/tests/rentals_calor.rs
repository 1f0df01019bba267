//! Calor rentals: subsidised price, token escrow, burn at settlement, every token unit checked.
use calor::events::RentalSettled;
use calor::state::{PaymentKind, RentalState};
use calor_client::{instructions as ix, pda};
use calor_tests::market::{Market, H100_SXM};
use calor_tests::outcome::OutcomeExt;
use calor_tests::spl;
use calor_tests::spl::TokenProgram;
use solana_signer::Signer;

/// 4 h × $2.50 = $10 at market, $5.00 after the 50% subsidy; at $0.25 per Calor that is
/// 20 Calor = 20,000,000 base units (6 decimals).
const ESCROW_4H: u64 = 20_000_000;

#[test]
fn calor_rental_burns_pays_and_refunds_exactly() {
    let mut m = Market::new();
    assert_eq!(m.protocol.token_program, TokenProgram::Token);
    let (renter, renter_token) = m.renter();
    let rental = pda::rental(&renter.pubkey(), 1);
    let escrow = pda::escrow(&rental);
    let node = m.operator.node(0);
    let operator = m.operator.authority.insecure_clone();
    let mint = m.protocol.calor_mint;
    let supply = spl::mint(&m.env, &mint).supply;
    let tokens_start = spl::balance(&m.env, &renter_token);
    let lamports_start = m.env.lamports(&renter.pubkey());

    let open = m
        .try_open_calor(&renter, renter_token, H100_SXM, Market::open_args(1, 4))
        .expect_ok("open");
    println!("open_rental_calor: {} CU", open.compute_units);
    assert_eq!(
        spl::balance(&m.env, &renter_token),
        tokens_start - ESCROW_4H
    );
    let escrow_acc = spl::token_account(&m.env, &escrow);
    assert_eq!(
        (escrow_acc.amount, escrow_acc.owner, escrow_acc.mint),
        (ESCROW_4H, rental, mint)
    );
    let r = m.rental(&rental);
    assert_eq!(
        (r.payment, r.escrowed, r.usd_paid_micro),
        (PaymentKind::Calor, ESCROW_4H, 5_000_000)
    );
    let rents = m.env.lamports(&rental) + m.env.lamports(&escrow);

    m.provider_op(ix::claim, &operator, 0, rental)
        .expect_ok("claim");
    assert_eq!(m.rental(&rental).payee, m.operator.payout.pubkey());
    m.provider_op(ix::start, &operator, 0, rental)
        .expect_ok("start");
    m.env.advance_secs(3_600);
    m.env
        .send(
            &[ix::complete(
                operator.pubkey(),
                rental,
                node,
                m.operator.provider,
            )],
            &operator,
            &[],
        )
        .expect_ok("complete by provider");
    assert_eq!(m.rental(&rental).state, RentalState::Completed);

    let payout_token = m.operator.payout_token;
    let settled = m
        .settle_calor(&rental, renter_token, Some(payout_token), &operator)
        .expect_ok("settle");
    println!("settle_calor: {} CU", settled.compute_units);
    // 1 h of 4: spent 5,000,000; fee 5% 250,000 (half to stakers); burn 20% 1,000,000;
    // provider 3,750,000
    let e = &settled.events::<RentalSettled>()[0];
    assert_eq!(
        (
            e.provider_amount,
            e.fee,
            e.staker_rewards,
            e.burned,
            e.refund
        ),
        (3_750_000, 250_000, 125_000, 1_000_000, 15_000_000)
    );
    assert_eq!(spl::balance(&m.env, &payout_token), 3_750_000);
    assert_eq!(spl::balance(&m.env, &m.treasury_token), 125_000);
    assert_eq!(spl::balance(&m.env, &pda::rewards_vault()), 125_000);
    assert_eq!(
        spl::balance(&m.env, &renter_token),
        tokens_start - ESCROW_4H + 15_000_000
    );
    assert_eq!(spl::mint(&m.env, &mint).supply, supply - 1_000_000);
    assert!(m.env.account(&escrow).is_none() && m.env.account(&rental).is_none());
    // both rents came back to the renter: it paid only its open's fee
    assert_eq!(lamports_start - m.env.lamports(&renter.pubkey()), 5_000);
    assert!(rents > 0);
}

#[test]
fn calor_extend_and_unclaimed_cancel_with_token_2022() {
    // the same flow under Token-2022
    let mut m = Market::new_with(TokenProgram::Token2022);
    let (renter, renter_token) = m.renter();
    let start = spl::balance(&m.env, &renter_token);
    let rental = pda::rental(&renter.pubkey(), 5);
    m.try_open_calor(&renter, renter_token, H100_SXM, Market::open_args(5, 4))
        .expect_ok("open");
    m.env
        .send(&[ix::cancel(renter.pubkey(), 5, None)], &renter, &[])
        .expect_ok("cancel");
    m.settle_calor(&rental, renter_token, None, &renter)
        .expect_ok("settle");
    assert_eq!(spl::balance(&m.env, &renter_token), start);

    let operator = m.operator.authority.insecure_clone();
    let rental = pda::rental(&renter.pubkey(), 6);
    m.try_open_calor(&renter, renter_token, H100_SXM, Market::open_args(6, 4))
        .expect_ok("open");
    m.provider_op(ix::claim, &operator, 0, rental)
        .expect_ok("claim");
    m.provider_op(ix::start, &operator, 0, rental)
        .expect_ok("start");
    let (mint, program) = (m.protocol.calor_mint, m.protocol.token_program.id());
    // 2 more hours: $5 market, $2.50 subsidised = 10 Calor
    m.env
        .send(
            &[ix::extend_calor(
                renter.pubkey(),
                6,
                mint,
                renter_token,
                program,
                2,
            )],
            &renter,
            &[],
        )
        .expect_ok("extend");
    let r = m.rental(&rental);
    assert_eq!((r.hours, r.escrowed), (6, ESCROW_4H + 10_000_000));
    assert_eq!(
        spl::token_account(&m.env, &pda::escrow(&rental)).amount,
        ESCROW_4H + 10_000_000
    );
}

#[test]
fn tokens_donated_to_an_escrow_cannot_block_settlement() {
    let mut m = Market::new();
    let (renter, renter_token) = m.renter();
    let (griefer, griefer_token) = m.renter();
    let rental = pda::rental(&renter.pubkey(), 1);
    let escrow = pda::escrow(&rental);
    let start = spl::balance(&m.env, &renter_token);
    m.try_open_calor(&renter, renter_token, H100_SXM, Market::open_args(1, 4))
        .expect_ok("open");
    // anyone may transfer into a token account
    let donate = anchor_spl::token::spl_token::instruction::transfer(
        &anchor_spl::token::spl_token::ID,
        &griefer_token,
        &escrow,
        &griefer.pubkey(),
        &[],
        7,
    )
    .unwrap();
    m.env.send(&[donate], &griefer, &[]).expect_ok("donate");
    assert_eq!(spl::balance(&m.env, &escrow), ESCROW_4H + 7);
    m.env
        .send(&[ix::cancel(renter.pubkey(), 1, None)], &renter, &[])
        .expect_ok("cancel");
    let settled = m
        .settle_calor(&rental, renter_token, None, &renter)
        .expect_ok("settle");
    assert_eq!(settled.events::<RentalSettled>()[0].refund, ESCROW_4H + 7);
    assert_eq!(spl::balance(&m.env, &renter_token), start + 7);
    assert!(m.env.account(&escrow).is_none());
}
