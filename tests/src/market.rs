//! A whole market in one SVM: the initialised protocol, the catalog, an approved provider
//! with a node, fresh prices, and helpers that drive rentals through their life.
use anchor_lang::prelude::Pubkey;
use calor::instructions::{ListNodeArgs, OpenRentalArgs, RegisterProviderArgs};
use calor::state::{Node, Rental};
use calor_client::instructions::{self as ix, CalorPayouts, SettleParties};
use calor_client::pda;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::catalog::{GPU_MODELS, REGIONS};
use crate::fixtures::{initialized_env, Protocol};
use crate::outcome::{Outcome, OutcomeExt};
use crate::pyth::{write_price_update, PythPrice};
use crate::spl::{self, TokenProgram};
use crate::TestEnv;

pub const H100_SXM: u16 = 2;
pub const H200: u16 = 3;
pub const US_EAST: u16 = 1;
pub const EU_WEST: u16 = 3;
/// $2.50 per node-hour.
pub const RATE: u64 = 2_500_000;
/// SOL/USD $150.00 ± $0.10.
pub const SOL_USD_CENTS: i64 = 15_000;
pub const SOL_CONF_CENTS: u64 = 10;
/// Calor/USD $0.25.
pub const CALOR_USD_MICRO: u64 = 250_000;
/// What the treasury puts into the subsidy vault when the market is set up: 10,000,000 Calor.
pub const SUBSIDY_FUNDING: u64 = 10_000_000 * crate::fixtures::CALOR;
pub const SSH_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFkfZAkyX+WGQUzcXyMISyhorGgJsOwABAxq9HwvE0K/ renter@calor";
/// A 3,072-bit RSA key line (566 bytes: the longest common key that fits a transaction).
pub const SSH_RSA_KEY: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQDPIHo35pkF0TLBF82WQhQ1RSiPRILc4znXSZ63BMSdHWQ6HCZQySN+K4FJ4BF/asJwGVBii7gB2qa7C77cFGMA772wVDQH/6D6x9ThsSQ3eSJyhKKR/l2gDIA2pUOyVxOMMFZ2ifU/co/sQ2QDQ+Y6XCxzdVihL+cgM6EmjsRqqIoHzW289y6Gw37oKN9Pc1e9H+iIIw6a2AxP1LBMqVb7XIpYRwT7VpSFK3m/hWchXGVjr0dJoIxOYYLi313MLbcYEjxxcQMvp7CuCxwruA3FawsyInwhTGdb/oGNJO/2cN62YDWEmdhrCG9+uhcoOZ/7rZ+MFF7AHTOjNmgpOytOGa6nfbJSOL5xmbGY4nrwAfNcr89hifn2AK0GnSt4KZpP/03hIjz0hmC8ntT33IdpZYjFn8FTPKDmgHuVq7vYNWhmfm+CYrVVqCSWDG6XauCZ5WC1zbMiMES/7+dOV6ltUF8iYPutsybRSW91xzc0ys2A3IQush9cCHdFiIhEyEk= renter@calor";
pub const SSH_ECDSA_KEY: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOlHZLjD+I6y3vOm0K9k0VjJFEPM9+jhp3VuLa5qVRtLvHJcJNAkXQA3fo+NwoN5msrVmKrDoCB04I4e/BOd9S8= renter@calor";

pub struct OperatorHandle {
    pub authority: Keypair,
    pub payout: Keypair,
    pub provider: Pubkey,
    /// Calor token account of the payout wallet.
    pub payout_token: Pubkey,
}

impl OperatorHandle {
    pub fn node(&self, index: u32) -> Pubkey {
        pda::node(&self.provider, index)
    }
}

pub struct Market {
    pub env: TestEnv,
    pub protocol: Protocol,
    pub authority: Keypair,
    pub price_update: Pubkey,
    pub treasury_token: Pubkey,
    pub operator: OperatorHandle,
}

impl Market {
    /// Protocol initialised, full catalog, Calor price posted, SOL/USD written, one approved
    /// provider in US East with one H100 SXM node at $2.50/h.
    pub fn new() -> Self {
        Self::new_with(TokenProgram::Token)
    }

    pub fn new_with(token_program: TokenProgram) -> Self {
        Self::build(token_program, true)
    }

    /// The same market before the authority has set up staking.
    pub fn without_staking() -> Self {
        Self::build(TokenProgram::Token, false)
    }

    fn build(token_program: TokenProgram, staking: bool) -> Self {
        let (mut env, protocol) = initialized_env(token_program);
        let authority = env.upgrade_authority.insecure_clone();
        let mut setup = Vec::new();
        for m in &GPU_MODELS {
            setup.push(ix::set_gpu_model(authority.pubkey(), m.id, m.args(true)));
        }
        for r in &REGIONS {
            setup.push(ix::set_region(authority.pubkey(), r.id, r.args(true)));
        }
        for chunk in setup.chunks(4) {
            env.send(chunk, &authority, &[]).expect_ok("catalog");
        }
        let mut ixs = vec![ix::post_calor_price(authority.pubkey(), CALOR_USD_MICRO)];
        if staking {
            ixs.push(ix::init_staking(
                authority.pubkey(),
                protocol.calor_mint,
                protocol.token_program.id(),
            ));
        }
        env.send(&ixs, &authority, &[])
            .expect_ok("post calor price, init staking");
        let treasury = protocol.treasury.pubkey();
        let treasury_token = spl::create_token_account(
            &mut env,
            &authority,
            &protocol.calor_mint,
            &treasury,
            protocol.token_program,
        );
        if staking {
            // the treasury funds the subsidy vault, as at launch
            spl::mint_to(
                &mut env,
                &protocol.mint_authority.insecure_clone(),
                &protocol.calor_mint,
                &treasury_token,
                SUBSIDY_FUNDING,
                protocol.token_program,
            );
            let fund = ix::fund_subsidy(
                treasury,
                treasury_token,
                protocol.calor_mint,
                protocol.token_program.id(),
                SUBSIDY_FUNDING,
            );
            env.fund(&treasury, 1_000_000_000);
            env.send(&[fund], &protocol.treasury.insecure_clone(), &[])
                .expect_ok("fund the subsidy vault");
        }
        let mut market = Self {
            env,
            protocol,
            authority,
            price_update: Pubkey::new_unique(),
            treasury_token,
            operator: OperatorHandle {
                authority: Keypair::new(),
                payout: Keypair::new(),
                provider: Pubkey::default(),
                payout_token: Pubkey::default(),
            },
        };
        market.refresh_sol_price();
        market.operator = market.add_operator(US_EAST);
        market.list_node(
            &market.operator.authority.insecure_clone(),
            H100_SXM,
            US_EAST,
            RATE,
        );
        market
    }

    /// (Re)writes SOL/USD at the standard price, published now.
    pub fn refresh_sol_price(&mut self) {
        let now = self.env.clock().unix_timestamp;
        let price = PythPrice::sol_usd(SOL_USD_CENTS, SOL_CONF_CENTS, now);
        write_price_update(&mut self.env, self.price_update, &price);
    }

    /// Re-publishes SOL/USD and re-posts the standard Calor rate, both as of now.
    pub fn refresh_prices(&mut self) {
        self.refresh_sol_price();
        self.post_calor_price(CALOR_USD_MICRO)
            .expect_ok("post the Calor rate");
    }

    pub fn post_calor_price(&mut self, micro_usd: u64) -> Outcome {
        let admin = self.authority.insecure_clone();
        self.env.send(
            &[ix::post_calor_price(admin.pubkey(), micro_usd)],
            &admin,
            &[],
        )
    }

    pub fn set_sol_price(&mut self, price: &PythPrice) {
        write_price_update(&mut self.env, self.price_update, price);
    }

    /// A registered, approved provider in `region`, with a Calor account for its payouts.
    pub fn add_operator(&mut self, region: u16) -> OperatorHandle {
        let authority = self.env.funded_keypair();
        let payout = Keypair::new();
        self.env.fund(&payout.pubkey(), 1_000_000_000);
        self.env
            .send(
                &[ix::register_provider(
                    authority.pubkey(),
                    region,
                    RegisterProviderArgs {
                        endpoint: "gpu1.example.net".into(),
                        payout: payout.pubkey(),
                    },
                )],
                &authority,
                &[],
            )
            .expect_ok("register provider");
        let admin = self.authority.insecure_clone();
        self.env
            .send(
                &[ix::approve_provider(
                    admin.pubkey(),
                    authority.pubkey(),
                    true,
                )],
                &admin,
                &[],
            )
            .expect_ok("approve provider");
        let payout_token = spl::create_token_account(
            &mut self.env,
            &admin,
            &self.protocol.calor_mint,
            &payout.pubkey(),
            self.protocol.token_program,
        );
        OperatorHandle {
            provider: pda::provider(&authority.pubkey()),
            authority,
            payout,
            payout_token,
        }
    }

    /// Lists the operator's next node and returns its index.
    pub fn list_node(&mut self, operator: &Keypair, gpu_model: u16, region: u16, rate: u64) -> u32 {
        let provider: calor::state::Provider = self.env.decode(&pda::provider(&operator.pubkey()));
        let index = provider.node_count;
        self.env
            .send(
                &[ix::list_node(
                    operator.pubkey(),
                    index,
                    gpu_model,
                    region,
                    ListNodeArgs {
                        gpu_count: 8,
                        hourly_rate_micro_usd: rate,
                    },
                )],
                operator,
                &[],
            )
            .expect_ok("list node");
        index
    }

    /// A renter with 100 SOL and 1,000,000 Calor.
    pub fn renter(&mut self) -> (Keypair, Pubkey) {
        let renter = self.env.funded_keypair();
        let token = self.fund_renter(&renter);
        (renter, token)
    }

    /// Gives `renter` 1,000,000 Calor in a new token account, which it returns.
    pub fn fund_renter(&mut self, renter: &Keypair) -> Pubkey {
        let token = spl::create_token_account(
            &mut self.env,
            renter,
            &self.protocol.calor_mint,
            &renter.pubkey(),
            self.protocol.token_program,
        );
        let mint_authority = self.protocol.mint_authority.insecure_clone();
        spl::mint_to(
            &mut self.env,
            &mint_authority,
            &self.protocol.calor_mint,
            &token,
            1_000_000_000_000,
            self.protocol.token_program,
        );
        token
    }

    /// An open of `hours` at [`RATE`], unpinned, with the test key and no payment cap (the
    /// instruction builders fill in the bumps).
    pub fn open_args(id: u64, hours: u32) -> OpenRentalArgs {
        OpenRentalArgs {
            id,
            bump: 0,
            escrow_bump: 0,
            hours,
            hourly_rate_micro_usd: RATE,
            region: None,
            near: None,
            ssh_public_key: Some(SSH_KEY.into()),
            forwarded_ports: Vec::new(),
            max_payment: u64::MAX,
        }
    }

    /// Extension arguments without a payment cap.
    pub fn extend_args(hours: u32) -> calor::instructions::ExtendArgs {
        calor::instructions::ExtendArgs {
            hours,
            max_payment: u64::MAX,
        }
    }

    pub fn try_open_sol(
        &mut self,
        renter: &Keypair,
        gpu_model: u16,
        args: OpenRentalArgs,
    ) -> Outcome {
        let ix = ix::open_rental_sol(renter.pubkey(), gpu_model, self.price_update, args);
        self.env.send(&[ix], renter, &[])
    }

    /// The config authority pauses or unpauses the protocol.
    pub fn set_paused(&mut self, paused: bool) {
        let admin = self.authority.insecure_clone();
        let ix = ix::update_config(
            admin.pubkey(),
            calor::instructions::UpdateConfigArgs {
                paused: Some(paused),
                ..Default::default()
            },
        );
        self.env.send(&[ix], &admin, &[]).expect_ok("pause flag");
    }

    /// Opens a SOL rental at `id`, then the default operator's node 0 claims and starts it.
    pub fn running_sol_rental(&mut self, renter: &Keypair, id: u64, hours: u32) -> Pubkey {
        let rental = pda::rental(&renter.pubkey(), id);
        let operator = self.operator.authority.insecure_clone();
        self.try_open_sol(renter, H100_SXM, Self::open_args(id, hours))
            .expect_ok("open");
        self.provider_op(ix::claim, &operator, 0, rental)
            .expect_ok("claim");
        self.provider_op(ix::start, &operator, 0, rental)
            .expect_ok("start");
        rental
    }

    pub fn try_open_calor(
        &mut self,
        renter: &Keypair,
        renter_token: Pubkey,
        gpu_model: u16,
        args: OpenRentalArgs,
    ) -> Outcome {
        let ix = ix::open_rental_calor(
            renter.pubkey(),
            gpu_model,
            self.protocol.calor_mint,
            renter_token,
            self.protocol.token_program.id(),
            args,
        );
        self.env.send(&[ix], renter, &[])
    }

    pub fn rental(&self, address: &Pubkey) -> Rental {
        self.env.decode(address)
    }

    pub fn node_state(&self, address: &Pubkey) -> Node {
        self.env.decode(address)
    }

    /// `complete`, signed by `signer` (the renter or the node's operator).
    pub fn complete(&mut self, signer: &Keypair, rental: &Pubkey) -> Outcome {
        let node = self.rental(rental).node;
        self.env
            .send(&[ix::complete(signer.pubkey(), *rental, node)], signer, &[])
    }

    pub fn heartbeat(&mut self, operator: &Keypair, node_index: u32) -> Outcome {
        self.env.send(
            &[ix::node_heartbeat(operator.pubkey(), node_index)],
            operator,
            &[],
        )
    }

    pub fn provider_op(
        &mut self,
        build: fn(Pubkey, u32, Pubkey) -> calor_client::Instruction,
        operator: &Keypair,
        node_index: u32,
        rental: Pubkey,
    ) -> Outcome {
        self.env.send(
            &[build(operator.pubkey(), node_index, rental)],
            operator,
            &[],
        )
    }

    pub fn settle_sol(&mut self, rental: &Pubkey, payer: &Keypair) -> Outcome {
        let parties = SettleParties::of(&self.rental(rental));
        self.env
            .send(&[ix::settle_sol(*rental, parties)], payer, &[])
    }

    pub fn settle_calor(
        &mut self,
        rental: &Pubkey,
        renter_token: Pubkey,
        provider_token: Option<Pubkey>,
        payer: &Keypair,
    ) -> Outcome {
        let ix = ix::settle_calor(
            *rental,
            SettleParties::of(&self.rental(rental)),
            self.protocol.calor_mint,
            self.protocol.token_program.id(),
            CalorPayouts {
                renter_token,
                provider_token,
            },
        );
        self.env.send(&[ix], payer, &[])
    }
}

impl OperatorHandle {
    pub fn fork(&self) -> Self {
        Self {
            authority: self.authority.insecure_clone(),
            payout: self.payout.insecure_clone(),
            provider: self.provider,
            payout_token: self.payout_token,
        }
    }
}

impl Market {
    /// An independent copy of this market (the SVM with all its accounts, and the keys).
    pub fn fork(&self) -> Self {
        Self {
            env: self.env.fork(),
            protocol: self.protocol.fork(),
            authority: self.authority.insecure_clone(),
            price_update: self.price_update,
            treasury_token: self.treasury_token,
            operator: self.operator.fork(),
        }
    }
}

impl Default for Market {
    fn default() -> Self {
        Self::new()
    }
}
