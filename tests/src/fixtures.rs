//! A protocol set up the way tests usually need it.
use anchor_lang::prelude::Pubkey;
use calor::constants::DEFAULT_MIN_RENTAL_MICRO_USD;
use calor::instructions::InitializeArgs;
use calor::state::{CalorPriceParams, ConfigParams, OracleParams, StakingParams};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::outcome::{OutcomeExt, Success};
use crate::pyth::SOL_USD_FEED_ID;
use crate::spl::{self, TokenProgram};
use crate::TestEnv;

/// Decimals of the test Calor mint.
pub const CALOR_DECIMALS: u8 = 6;
/// One whole Calor token in base units.
pub const CALOR: u64 = 1_000_000;

/// The launch settings: 5% protocol fee, 20% of Calor spent burned, 50% Calor subsidy,
/// $5 minimum, SOL/USD at most 60 s old with confidence within 2%, Calor rate within
/// $0.0001–$1,000 and at most 1 h old, 15 min queue timeout, 5 min heartbeat timeout;
/// one-day epochs, half of each Calor fee to stakers, priority from 1,000 / 10,000 /
/// 100,000 Calor, a 3-day vote with a 20% quorum, 1,000 Calor to propose.
pub fn default_params() -> ConfigParams {
    ConfigParams {
        protocol_fee_bps: 500,
        burn_bps: 2_000,
        calor_subsidy_bps: 5_000,
        min_rental_micro_usd: DEFAULT_MIN_RENTAL_MICRO_USD,
        sol_usd_oracle: OracleParams {
            feed_id: SOL_USD_FEED_ID,
            max_age_secs: 60,
            max_conf_bps: 200,
        },
        calor_price: CalorPriceParams {
            max_age_secs: 3_600,
            min_micro_usd: 100,
            max_micro_usd: 1_000_000_000,
        },
        queue_timeout_secs: 900,
        heartbeat_timeout_secs: 300,
        staking: StakingParams {
            epoch_secs: 86_400,
            staker_fee_share_bps: 5_000,
            priority_tiers: [CALOR * 1_000, CALOR * 10_000, CALOR * 100_000],
            quorum_bps: 2_000,
            voting_period_secs: 3 * 86_400,
            min_stake_to_propose: CALOR * 1_000,
        },
    }
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
