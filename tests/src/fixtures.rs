//! A protocol set up the way tests usually need it.
use anchor_lang::prelude::Pubkey;
use calor::instructions::InitializeArgs;
use calor::state::ConfigParams;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::outcome::{OutcomeExt, Success};
use crate::spl::{self, TokenProgram};
use crate::TestEnv;

pub use calor_client::catalog::{CALOR, CALOR_DECIMALS};

/// The launch settings (see [`calor_client::catalog::launch_params`]).
pub fn default_params() -> ConfigParams {
    calor_client::catalog::launch_params()
}

/// Handles to what [`Protocol::initialize`] created.
pub struct Protocol {
    pub calor_mint: Pubkey,
    pub mint_authority: Keypair,
    pub treasury: Keypair,
    pub token_program: TokenProgram,
}

impl Protocol {
    pub fn fork(&self) -> Self {
        Self {
            calor_mint: self.calor_mint,
            mint_authority: self.mint_authority.insecure_clone(),
            treasury: self.treasury.insecure_clone(),
            token_program: self.token_program,
        }
    }

    /// A Calor mint plus a treasury, not yet initialised on-chain.
    pub fn prepare(env: &mut TestEnv, token_program: TokenProgram) -> Self {
        let mint_authority = env.funded_keypair();
        let calor_mint = spl::create_mint(
            env,
            &mint_authority,
            &mint_authority.pubkey(),
            CALOR_DECIMALS,
            token_program,
        );
        Self {
            calor_mint,
            mint_authority,
            treasury: Keypair::new(),
            token_program,
        }
    }

    pub fn initialize_args(&self) -> InitializeArgs {
        InitializeArgs {
            treasury: self.treasury.pubkey(),
            params: default_params(),
        }
    }

    /// Sends `initialize` with the default settings, signed by the upgrade authority.
    pub fn initialize(&self, env: &mut TestEnv) -> Success {
        let authority = env.upgrade_authority.insecure_clone();
        let ix = calor_client::instructions::initialize(
            authority.pubkey(),
            self.calor_mint,
            self.initialize_args(),
        );
        env.send(&[ix], &authority, &[]).expect_ok("initialize")
    }
}

/// A fresh SVM with the program deployed and the protocol initialised, its Calor mint under
/// `token_program`.
pub fn initialized_env(token_program: TokenProgram) -> (TestEnv, Protocol) {
    let mut env = TestEnv::new();
    let protocol = Protocol::prepare(&mut env, token_program);
    protocol.initialize(&mut env);
    (env, protocol)
}
