//! `initialize`: the global config, created once by the program's upgrade authority.
use anchor_lang::prelude::Pubkey;
use calor::errors::CalorError;
use calor::events::ConfigInitialized;
use calor::instructions::InitializeArgs;
use calor::state::Config;
use calor_client::{instructions, pda};
use calor_tests::fixtures::{default_params, Protocol, CALOR_DECIMALS};
use calor_tests::outcome::OutcomeExt;
use calor_tests::spl::TokenProgram;
use calor_tests::{Outcome, TestEnv};
use solana_keypair::Keypair;
use solana_signer::Signer;

fn setup() -> (TestEnv, Protocol) {
    let mut env = TestEnv::new();
    let protocol = Protocol::prepare(&mut env, TokenProgram::Token);
    (env, protocol)
}

/// Sends `initialize` signed by `signer` with `args`, and checks that a rejected call left
/// no config behind.
fn try_initialize(
    env: &mut TestEnv,
    signer: &Keypair,
    mint: Pubkey,
    args: InitializeArgs,
) -> Outcome {
    let ix = instructions::initialize(signer.pubkey(), mint, args);
    let outcome = env.send(&[ix], signer, &[]);
    if outcome.is_err() {
        assert!(
            env.account(&pda::config().0).is_none(),
            "a rejected initialize left a config"
        );
    }
    outcome
}

fn with_params(protocol: &Protocol, edit: impl FnOnce(&mut InitializeArgs)) -> InitializeArgs {
    let mut args = protocol.initialize_args();
    edit(&mut args);
    args
}

#[test]
fn initialize_creates_the_config() {
    for token_program in [TokenProgram::Token, TokenProgram::Token2022] {
        let mut env = TestEnv::new();
        let protocol = Protocol::prepare(&mut env, token_program);
        let before = env.lamports(&env.upgrade_authority.pubkey());
        let tx = protocol.initialize(&mut env);

        let (address, bump) = pda::config();
        let config: Config = env.decode(&address);
        assert_eq!(config.authority, env.upgrade_authority.pubkey());
        assert_eq!(config.pending_authority(), None);
        assert_eq!(config.treasury, protocol.treasury.pubkey());
        assert_eq!(config.calor_mint, protocol.calor_mint);
        assert_eq!(config.calor_decimals, CALOR_DECIMALS);
        assert_eq!(config.params, default_params());
        assert_eq!(
            (config.calor_price_micro_usd, config.calor_price_posted_at),
            (0, 0)
        );
        assert!(!config.is_paused());
        assert_eq!(config.bump, bump);

        // the authority paid exactly the rent of the config plus the 5,000-lamport fee
        let account = env.account(&address).unwrap();
        assert_eq!(account.data.len(), 8 + std::mem::size_of::<Config>());
        assert_eq!(account.lamports, env.rent_exempt(account.data.len()));
        assert_eq!(
            env.lamports(&env.upgrade_authority.pubkey()),
            before - account.lamports - 5_000
        );

        let events = tx.events::<ConfigInitialized>();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(
            (e.config, e.authority, e.treasury),
            (address, config.authority, config.treasury)
        );
        assert_eq!(
            (e.protocol_fee_bps, e.burn_bps, e.calor_subsidy_bps),
            (500, 2_000, 5_000)
        );
        assert_eq!(e.min_rental_micro_usd, 5_000_000);
        println!(
            "initialize ({token_program:?} mint): {} CU",
            tx.compute_units
        );
        assert!(tx.compute_units > 0);
    }
}

#[test]
fn initialize_twice_is_rejected() {
    let (mut env, protocol) = setup();
    protocol.initialize(&mut env);
    let authority = env.upgrade_authority.insecure_clone();
    let ix = instructions::initialize(
        authority.pubkey(),
        protocol.calor_mint,
        protocol.initialize_args(),
    );
    env.send(&[ix], &authority, &[])
        .expect_calor_err(CalorError::AlreadyExists);
}

#[test]
fn only_the_upgrade_authority_may_initialize() {
    let (mut env, protocol) = setup();
    let stranger = env.funded_keypair();
    try_initialize(
        &mut env,
        &stranger,
        protocol.calor_mint,
        protocol.initialize_args(),
    )
    .expect_calor_err(CalorError::NotUpgradeAuthority);

    // an immutable program (no upgrade authority) cannot be initialised by anyone
    env.set_upgrade_authority(None);
    let authority = env.upgrade_authority.insecure_clone();
    try_initialize(
        &mut env,
        &authority,
        protocol.calor_mint,
        protocol.initialize_args(),
    )
    .expect_calor_err(CalorError::NotUpgradeAuthority);
}

#[test]
fn a_foreign_program_data_account_is_rejected() {
    let (mut env, protocol) = setup();
    let authority = env.upgrade_authority.insecure_clone();
    let mut ix = instructions::initialize(
        authority.pubkey(),
        protocol.calor_mint,
        protocol.initialize_args(),
    );
    // the program-data slot is account #4; point it at an account the loader does not own
    ix.accounts[4].pubkey = authority.pubkey();
    env.send(&[ix], &authority, &[])
        .expect_calor_err(CalorError::NotUpgradeAuthority);
}

#[test]
fn the_calor_mint_must_be_a_token_mint() {
    let (mut env, protocol) = setup();
    let authority = env.upgrade_authority.insecure_clone();
    // a system-owned account is not a mint
    try_initialize(
        &mut env,
        &authority,
        protocol.treasury.pubkey(),
        protocol.initialize_args(),
    )
    .expect_calor_err(CalorError::WrongMint);
    let wallet = env.funded_keypair();
    try_initialize(
        &mut env,
        &authority,
        wallet.pubkey(),
        protocol.initialize_args(),
    )
    .expect_calor_err(CalorError::WrongMint);
}

#[test]
fn invalid_settings_are_rejected_by_name() {
    let (mut env, protocol) = setup();
    let authority = env.upgrade_authority.insecure_clone();
    let mint = protocol.calor_mint;
    let cases: Vec<(&str, InitializeArgs, CalorError)> = vec![
        (
            "treasury is the default key",
            with_params(&protocol, |a| a.treasury = Pubkey::default()),
            CalorError::InvalidTreasury,
        ),
        (
            "fee above 100%",
            with_params(&protocol, |a| a.params.protocol_fee_bps = 10_001),
            CalorError::BpsOutOfRange,
        ),
        (
            "burn above 100%",
            with_params(&protocol, |a| a.params.burn_bps = 10_001),
            CalorError::BpsOutOfRange,
        ),
        (
            "high-impact quorum below the quorum",
            with_params(&protocol, |a| {
                a.params.staking.high_impact_quorum_bps = 1_999
            }),
            CalorError::InvalidQuorum,
        ),
        (
            "no execution window",
            with_params(&protocol, |a| a.params.staking.execution_window_secs = 0),
            CalorError::InvalidPeriod,
        ),
        (
            "a Calor price that may not move",
            with_params(&protocol, |a| {
                a.params.calor_price.max_move_bps_per_hour = 0
            }),
            CalorError::InvalidPriceBounds,
        ),
        (
            "subsidy above 85%",
            with_params(&protocol, |a| a.params.calor_subsidy_bps = 8_501),
            CalorError::SubsidyTooHigh,
        ),
        (
            "zero minimum",
            with_params(&protocol, |a| a.params.min_rental_micro_usd = 0),
            CalorError::ZeroMinimumRental,
        ),
        (
            "zero feed id",
            with_params(&protocol, |a| a.params.sol_usd_oracle.feed_id = [0; 32]),
            CalorError::InvalidFeedId,
        ),
        (
            "oracle max age 0",
            with_params(&protocol, |a| a.params.sol_usd_oracle.max_age_secs = 0),
            CalorError::InvalidDuration,
        ),
        (
            "confidence above 100%",
            with_params(&protocol, |a| a.params.sol_usd_oracle.max_conf_bps = 10_001),
            CalorError::BpsOutOfRange,
        ),
        (
            "calor price max age 0",
            with_params(&protocol, |a| a.params.calor_price.max_age_secs = 0),
            CalorError::InvalidDuration,
        ),
        (
            "calor price bounds inverted",
            with_params(&protocol, |a| {
                a.params.calor_price.min_micro_usd = 2;
                a.params.calor_price.max_micro_usd = 1;
            }),
            CalorError::InvalidPriceBounds,
        ),
        (
            "calor price floor 0",
            with_params(&protocol, |a| a.params.calor_price.min_micro_usd = 0),
            CalorError::InvalidPriceBounds,
        ),
        (
            "queue timeout 0",
            with_params(&protocol, |a| a.params.queue_timeout_secs = 0),
            CalorError::InvalidDuration,
        ),
        (
            "heartbeat timeout over a week",
            with_params(&protocol, |a| {
                a.params.heartbeat_timeout_secs = 7 * 24 * 3600 + 1
            }),
            CalorError::InvalidDuration,
        ),
    ];
    for (name, args, expected) in cases {
        println!("case: {name}");
        try_initialize(&mut env, &authority, mint, args).expect_calor_err(expected);
    }
    // the boundaries themselves are accepted
    let edge = with_params(&protocol, |a| {
        a.params.protocol_fee_bps = 2_000;
        a.params.burn_bps = 8_000;
        a.params.calor_subsidy_bps = 8_500;
        a.params.heartbeat_timeout_secs = 7 * 24 * 3600;
    });
    try_initialize(&mut env, &authority, mint, edge).expect_ok("initialize at the limits");
}
