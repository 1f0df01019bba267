//! Calor rentals: subsidised price, token escrow, the subsidy vault paying the provider the
//! market value and funding the burn, every token unit checked.
use calor::errors::CalorError;
use calor::events::{RentalOpened, RentalSettled};
use calor::state::{PaymentKind, RentalState};
use calor_client::{instructions as ix, pda};
use calor_tests::market::{Market, H100_SXM, SUBSIDY_FUNDING};
use calor_tests::outcome::OutcomeExt;
use calor_tests::spl;
use calor_tests::spl::TokenProgram;
use solana_signer::Signer;

/// 4 h × $2.50 = $10 at market, $5.00 after the 50% subsidy; at $0.25 per Calor that is
/// 20 Calor = 20,000,000 base units (6 decimals).
const ESCROW_4H: u64 = 20_000_000;
/// What the subsidy vault reserves for it: the other 20 Calor of the $10 market value and the
/// 20% burn of that value (8 Calor).
const RESERVED_4H: u64 = 28_000_000;

fn subsidy_pool(m: &Market) -> calor::state::SubsidyPool {
    m.env.decode(&pda::subsidy_pool())
}

#[test]
fn the_provider_earns_the_market_value_and_the_vault_pays_subsidy_and_burn() {
    let mut m = Market::new();
    assert_eq!(m.protocol.token_program, TokenProgram::Token);
    let (renter, renter_token) = m.renter();
    let rental = pda::rental(&renter.pubkey(), 1);
    let escrow = pda::escrow(&rental);
    let operator = m.operator.authority.insecure_clone();
    let mint = m.protocol.calor_mint;
    let supply = spl::mint(&m.env, &mint).supply;
    let tokens_start = spl::balance(&m.env, &renter_token);
    let lamports_start = m.env.lamports(&renter.pubkey());
    let vault = pda::subsidy_vault();
    assert_eq!(spl::balance(&m.env, &vault), SUBSIDY_FUNDING);

    let open = m
        .try_open_calor(&renter, renter_token, H100_SXM, Market::open_args(1, 4))
        .expect_ok("open");
    let opened = &open.events::<RentalOpened>()[0];
    assert_eq!(
        (
            opened.escrowed,
            opened.usd_paid_micro,
            opened.subsidy_reserved
        ),
        (ESCROW_4H, 5_000_000, RESERVED_4H)
    );
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
        (r.payment(), r.escrowed, r.subsidy_bps),
        (PaymentKind::Calor, ESCROW_4H, 5_000)
    );
    let pool = subsidy_pool(&m);
    assert_eq!(
        (pool.reserved, pool.budget_used),
        (RESERVED_4H, RESERVED_4H)
    );

    m.provider_op(ix::claim, &operator, 0, rental)
        .expect_ok("claim");
    assert_eq!(m.rental(&rental).payee, m.operator.payout.pubkey());
    m.provider_op(ix::start, &operator, 0, rental)
        .expect_ok("start");
    m.env.advance_secs(3_600);
    m.complete(&operator, &rental)
        .expect_ok("complete by provider");
    assert_eq!(m.rental(&rental).state(), RentalState::Completed);

    let payout_token = m.operator.payout_token;
    let settled = m
        .settle_calor(&rental, renter_token, Some(payout_token), &operator)
        .expect_ok("settle");
    // 1 h of 4 at a market value of 40 Calor: 10 Calor ($2.50) served. Fee 5% 0.5 Calor
    // (half to stakers), provider 9.5 Calor ($2.375, as if paid in SOL); the renter's 5 Calor
    // served plus 5 from the vault pay it; the vault also funds the 2 Calor burn (20% of 10).
    let e = &settled.events::<RentalSettled>()[0];
    assert_eq!(
        (
            e.provider_amount,
            e.fee,
            e.staker_rewards,
            e.burned,
            e.refund,
            e.subsidy_drawn
        ),
        (9_500_000, 500_000, 250_000, 2_000_000, 15_000_000, 7_000_000)
    );
    assert!(!e.refund_held);
    assert_eq!(spl::balance(&m.env, &payout_token), 9_500_000);
    // the vault paid 7 Calor and kept the 0.5 Calor fee; the stakers' half moves to the
    // rewards vault at the epoch's end
    assert_eq!(
        spl::balance(&m.env, &vault),
        SUBSIDY_FUNDING - 7_000_000 + 500_000
    );
    let pool = subsidy_pool(&m);
    assert_eq!((pool.reserved, pool.staker_rewards_owed), (0, 250_000));
    assert_eq!(
        spl::balance(&m.env, &renter_token),
        tokens_start - ESCROW_4H + 15_000_000
    );
    assert_eq!(spl::mint(&m.env, &mint).supply, supply - 2_000_000);
    assert!(m.env.account(&escrow).is_none() && m.env.account(&rental).is_none());
    // both rents came back to the renter: it paid only its open's fee
    assert_eq!(lamports_start - m.env.lamports(&renter.pubkey()), 5_000);

    m.advance_epoch().expect_ok("advance epoch");
    assert_eq!(spl::balance(&m.env, &pda::rewards_vault()), 250_000);
    assert_eq!(subsidy_pool(&m).staker_rewards_owed, 0);
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
        .send(&[ix::cancel(renter.pubkey(), rental, None)], &renter, &[])
        .expect_ok("cancel");
    m.settle_calor(&rental, renter_token, None, &renter)
        .expect_ok("settle");
    assert_eq!(spl::balance(&m.env, &renter_token), start);
    assert_eq!(
        subsidy_pool(&m).reserved,
        0,
        "a cancelled rental releases its reservation"
    );

    let operator = m.operator.authority.insecure_clone();
    let rental = pda::rental(&renter.pubkey(), 6);
    m.try_open_calor(&renter, renter_token, H100_SXM, Market::open_args(6, 4))
        .expect_ok("open");
    m.provider_op(ix::claim, &operator, 0, rental)
        .expect_ok("claim");
    m.provider_op(ix::start, &operator, 0, rental)
        .expect_ok("start");
    let (mint, program) = (m.protocol.calor_mint, m.protocol.token_program.id());
    // 2 more hours: $5 market, $2.50 subsidised = 10 Calor; the vault reserves 14 more
    m.env
        .send(
            &[ix::extend_calor(
                renter.pubkey(),
                rental,
                mint,
                renter_token,
                program,
                Market::extend_args(2),
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
    assert_eq!(subsidy_pool(&m).reserved, RESERVED_4H + 14_000_000);
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
        .send(&[ix::cancel(renter.pubkey(), rental, None)], &renter, &[])
        .expect_ok("cancel");
    let settled = m
        .settle_calor(&rental, renter_token, None, &renter)
        .expect_ok("settle");
    assert_eq!(settled.events::<RentalSettled>()[0].refund, ESCROW_4H + 7);
    assert_eq!(spl::balance(&m.env, &renter_token), start + 7);
    assert!(m.env.account(&escrow).is_none());
}

#[test]
fn the_subsidy_vault_bounds_calor_rentals_and_the_treasury_takes_only_what_is_free() {
    let mut m = Market::new();
    let (renter, renter_token) = m.renter();
    let admin = m.authority.insecure_clone();
    let (mint, program) = (m.protocol.calor_mint, m.protocol.token_program.id());
    // the treasury takes all but 30 Calor out: one 4 h rental (28 reserved) still fits
    let treasury_token = m.treasury_token;
    let withdraw =
        |amount| ix::withdraw_subsidy(admin.pubkey(), treasury_token, mint, program, amount);
    m.env
        .send(&[withdraw(SUBSIDY_FUNDING - 30_000_000)], &admin, &[])
        .expect_ok("withdraw");
    m.try_open_calor(&renter, renter_token, H100_SXM, Market::open_args(1, 4))
        .expect_ok("open within the vault");
    // 2 Calor are free now: a second rental needs 28
    m.try_open_calor(&renter, renter_token, H100_SXM, Market::open_args(2, 4))
        .expect_calor_err(CalorError::SubsidyVaultInsufficient);
    // and reserved Calor cannot be withdrawn
    m.env
        .send(&[withdraw(2_000_001)], &admin, &[])
        .expect_calor_err(CalorError::SubsidyVaultInsufficient);
    m.env
        .send(&[withdraw(2_000_000)], &admin, &[])
        .expect_ok("withdraw the free rest");
    // only the authority withdraws, and only to the treasury
    let stranger = m.env.funded_keypair();
    let mut stolen = ix::withdraw_subsidy(stranger.pubkey(), treasury_token, mint, program, 1);
    stolen.accounts[5].pubkey = stranger.pubkey();
    m.env
        .send(&[stolen], &stranger, &[])
        .expect_calor_err(CalorError::NotConfigAuthority);
    m.env
        .send(
            &[ix::withdraw_subsidy(
                admin.pubkey(),
                renter_token,
                mint,
                program,
                1,
            )],
            &admin,
            &[],
        )
        .expect_calor_err(CalorError::WrongTreasury);
}
