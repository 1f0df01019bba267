//! The Calor mint cannot be one that could block or drain the escrows and vaults: every
//! Token-2022 extension that can (and a freeze authority) is refused at `initialize` by name,
//! while descriptive extensions are accepted.
use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022;
use calor::errors::CalorError;
use calor_client::instructions;
use calor_tests::fixtures::Protocol;
use calor_tests::outcome::{Outcome, OutcomeExt};
use calor_tests::spl::{self, TokenProgram};
use calor_tests::TestEnv;
use solana_signer::Signer;
use spl_token_2022::extension::{self as ext, ExtensionType};

/// `initialize` with `mint` as the Calor mint.
fn initialize_with(env: &mut TestEnv, mint: Pubkey) -> Outcome {
    let authority = env.upgrade_authority.insecure_clone();
    let mut protocol = Protocol::prepare(env, TokenProgram::Token2022);
    protocol.calor_mint = mint;
    let ix = instructions::initialize(authority.pubkey(), mint, protocol.initialize_args());
    env.send(&[ix], &authority, &[])
}

#[test]
fn extensions_that_could_block_or_drain_escrows_are_refused_by_name() {
    let program = spl_token_2022::ID;
    type Init =
        Box<dyn Fn(&Pubkey, &Pubkey) -> anchor_lang::solana_program::instruction::Instruction>;
    let cases: Vec<(&str, ExtensionType, Init)> = vec![
        (
            "transfer fee (fees withheld in an escrow block its closing)",
            ExtensionType::TransferFeeConfig,
            Box::new(move |mint, auth| {
                ext::transfer_fee::instruction::initialize_transfer_fee_config(
                    &program,
                    mint,
                    Some(auth),
                    Some(auth),
                    100,
                    1_000,
                )
                .unwrap()
            }),
        ),
        (
            "transfer hook (another program decides whether escrows may pay)",
            ExtensionType::TransferHook,
            Box::new(move |mint, auth| {
                ext::transfer_hook::instruction::initialize(
                    &program,
                    mint,
                    Some(*auth),
                    Some(Pubkey::new_unique()),
                )
                .unwrap()
            }),
        ),
        (
            "permanent delegate (can move tokens out of any escrow)",
            ExtensionType::PermanentDelegate,
            Box::new(move |mint, auth| {
                spl_token_2022::instruction::initialize_permanent_delegate(&program, mint, auth)
                    .unwrap()
            }),
        ),
        (
            "default account state (new escrows could start frozen)",
            ExtensionType::DefaultAccountState,
            Box::new(move |mint, _| {
                ext::default_account_state::instruction::initialize_default_account_state(
                    &program,
                    mint,
                    &spl_token_2022::state::AccountState::Initialized,
                )
                .unwrap()
            }),
        ),
        (
            "non-transferable (escrows could never pay out)",
            ExtensionType::NonTransferable,
            Box::new(move |mint, _| {
                spl_token_2022::instruction::initialize_non_transferable_mint(&program, mint)
                    .unwrap()
            }),
        ),
        (
            "pausable (an authority could stop every transfer)",
            ExtensionType::Pausable,
            Box::new(move |mint, auth| {
                ext::pausable::instruction::initialize(&program, mint, auth).unwrap()
            }),
        ),
        (
            "mint close authority (the mint could vanish and come back with other rules)",
            ExtensionType::MintCloseAuthority,
            Box::new(move |mint, auth| {
                spl_token_2022::instruction::initialize_mint_close_authority(
                    &program,
                    mint,
                    Some(auth),
                )
                .unwrap()
            }),
        ),
        (
            "confidential transfers (balances the program cannot see)",
            ExtensionType::ConfidentialTransferMint,
            Box::new(move |mint, auth| {
                ext::confidential_transfer::instruction::initialize_mint(
                    &program,
                    mint,
                    Some(*auth),
                    true,
                    None,
                )
                .unwrap()
            }),
        ),
    ];
    for (name, extension, init) in cases {
        println!("case: {name}");
        let mut env = TestEnv::new();
        let payer = env.funded_keypair();
        let auth = payer.pubkey();
        let mint = spl::create_mint_2022_with(&mut env, &payer, &auth, None, &[extension], |m| {
            vec![init(m, &auth)]
        });
        initialize_with(&mut env, mint).expect_calor_err(CalorError::MintExtensionNotAllowed);
    }
}

#[test]
fn a_freeze_authority_is_refused_and_descriptive_extensions_are_accepted() {
    let mut env = TestEnv::new();
    let payer = env.funded_keypair();
    let auth = payer.pubkey();
    let frozen = spl::create_mint_2022_with(&mut env, &payer, &auth, Some(&auth), &[], |_| vec![]);
    initialize_with(&mut env, frozen).expect_calor_err(CalorError::MintHasFreezeAuthority);

    let program = spl_token_2022::ID;
    let described = spl::create_mint_2022_with(
        &mut env,
        &payer,
        &auth,
        None,
        &[ExtensionType::MetadataPointer],
        |mint| {
            vec![ext::metadata_pointer::instruction::initialize(
                &program,
                mint,
                Some(auth),
                Some(*mint),
            )
            .unwrap()]
        },
    );
    initialize_with(&mut env, described).expect_ok("a mint with a metadata pointer");
}
