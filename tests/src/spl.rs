//! SPL Token / Token-2022 fixtures: mints, token accounts, balances.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::program_pack::Pack;
use anchor_lang::solana_program::system_instruction;
use anchor_lang::AccountDeserialize;
use anchor_spl::token::spl_token;
use anchor_spl::token_2022::spl_token_2022;
use anchor_spl::token_interface::{Mint, TokenAccount};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::outcome::OutcomeExt;
use crate::TestEnv;

/// Which token program a mint lives under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProgram {
    Token,
    Token2022,
}

impl TokenProgram {
    pub fn id(self) -> Pubkey {
        match self {
            Self::Token => spl_token::ID,
            Self::Token2022 => spl_token_2022::ID,
        }
    }
}

/// Creates and initialises a mint with no freeze authority.
pub fn create_mint(
    env: &mut TestEnv,
    payer: &Keypair,
    mint_authority: &Pubkey,
    decimals: u8,
    program: TokenProgram,
) -> Pubkey {
    let mint = Keypair::new();
    let len = spl_token::state::Mint::LEN;
    let rent = env.rent_exempt(len);
    let init = match program {
        TokenProgram::Token => spl_token::instruction::initialize_mint2(
            &spl_token::ID,
            &mint.pubkey(),
            mint_authority,
            None,
            decimals,
        ),
        TokenProgram::Token2022 => spl_token_2022::instruction::initialize_mint2(
            &spl_token_2022::ID,
            &mint.pubkey(),
            mint_authority,
            None,
            decimals,
        ),
    }
    .expect("initialize_mint2");
    let create = system_instruction::create_account(
        &payer.pubkey(),
        &mint.pubkey(),
        rent,
        len as u64,
        &program.id(),
    );
    env.send(&[create, init], payer, &[&mint])
        .expect_ok("create mint");
    mint.pubkey()
}

/// Creates a Token-2022 mint with the extensions `extensions` lists, set up by `init` (the
/// extension instructions, given the mint's address), then `InitializeMint2` with
/// `freeze_authority`.
pub fn create_mint_2022_with(
    env: &mut TestEnv,
    payer: &Keypair,
    mint_authority: &Pubkey,
    freeze_authority: Option<&Pubkey>,
    extensions: &[spl_token_2022::extension::ExtensionType],
    init: impl FnOnce(&Pubkey) -> Vec<anchor_lang::solana_program::instruction::Instruction>,
) -> Pubkey {
    use spl_token_2022::extension::ExtensionType;
    let mint = Keypair::new();
    let len = ExtensionType::try_calculate_account_len::<spl_token_2022::state::Mint>(extensions)
        .expect("mint length");
    let rent = env.rent_exempt(len);
    let mut ixs = vec![system_instruction::create_account(
        &payer.pubkey(),
        &mint.pubkey(),
        rent,
        len as u64,
        &spl_token_2022::ID,
    )];
    ixs.extend(init(&mint.pubkey()));
    ixs.push(
        spl_token_2022::instruction::initialize_mint2(
            &spl_token_2022::ID,
            &mint.pubkey(),
            mint_authority,
            freeze_authority,
            6,
        )
        .expect("initialize_mint2"),
    );
    env.send(&ixs, payer, &[&mint])
        .expect_ok("create mint with extensions");
    mint.pubkey()
}

/// Creates a token account (a fresh keypair address) for `owner`.
pub fn create_token_account(
    env: &mut TestEnv,
    payer: &Keypair,
    mint: &Pubkey,
    owner: &Pubkey,
    program: TokenProgram,
) -> Pubkey {
    let account = Keypair::new();
    let len = spl_token::state::Account::LEN;
    let rent = env.rent_exempt(len);
    let init = match program {
        TokenProgram::Token => spl_token::instruction::initialize_account3(
            &spl_token::ID,
            &account.pubkey(),
            mint,
            owner,
        ),
        TokenProgram::Token2022 => spl_token_2022::instruction::initialize_account3(
            &spl_token_2022::ID,
            &account.pubkey(),
            mint,
            owner,
        ),
    }
    .expect("initialize_account3");
    let create = system_instruction::create_account(
        &payer.pubkey(),
        &account.pubkey(),
        rent,
        len as u64,
        &program.id(),
    );
    env.send(&[create, init], payer, &[&account])
        .expect_ok("create token account");
    account.pubkey()
}

pub fn mint_to(
    env: &mut TestEnv,
    mint_authority: &Keypair,
    mint: &Pubkey,
    to: &Pubkey,
    amount: u64,
    program: TokenProgram,
) {
    let ix = match program {
        TokenProgram::Token => spl_token::instruction::mint_to(
            &spl_token::ID,
            mint,
            to,
            &mint_authority.pubkey(),
            &[],
            amount,
        ),
        TokenProgram::Token2022 => spl_token_2022::instruction::mint_to(
            &spl_token_2022::ID,
            mint,
            to,
            &mint_authority.pubkey(),
            &[],
            amount,
        ),
    }
    .expect("mint_to");
    env.send(&[ix], mint_authority, &[]).expect_ok("mint_to");
}

/// Decodes a token account of either token program.
pub fn token_account(env: &TestEnv, address: &Pubkey) -> TokenAccount {
    let account = env.account(address).expect("token account exists");
    TokenAccount::try_deserialize(&mut account.data.as_slice()).expect("decode token account")
}

pub fn balance(env: &TestEnv, address: &Pubkey) -> u64 {
    token_account(env, address).amount
}

pub fn mint(env: &TestEnv, address: &Pubkey) -> Mint {
    let account = env.account(address).expect("mint exists");
    Mint::try_deserialize(&mut account.data.as_slice()).expect("decode mint")
}
