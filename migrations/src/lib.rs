//! Deployment steps for a cluster, run against a live RPC node: the protocol config, the GPU
//! catalog and regions, the Calor mint (local chains), staking, providers and their nodes.
//! Every step first reads the chain and does only what is missing, so running it twice is safe.
pub mod terminal;

use anchor_lang::solana_program::program_pack::Pack;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::token::spl_token;
use anyhow::{Context, Result};
use calor::instructions::{InitializeArgs, ListNodeArgs, RegisterProviderArgs};
use calor_client::accounts::{Config, GpuModel, Node, Provider, Region, StakePool};
use calor_client::catalog::{launch_params, CALOR_DECIMALS, GPU_MODELS, REGIONS};
use calor_client::pyth::{self, PythPrice, PRICE_UPDATE_LEN, RECEIVER_PROGRAM};
use calor_client::rpc::Chain;
use calor_client::{instructions as ix, pda, Pubkey};
use solana_keypair::Keypair;
use solana_signer::Signer;

/// Keypair files (shared with the provisioner).
pub use calor_client::keys;

/// SOL every local key is topped up to before it pays for anything.
const LOCAL_FUNDING_LAMPORTS: u64 = 100_000_000_000;
/// The Calor/USD rate posted on a local chain: $0.05.
pub const LOCAL_CALOR_PRICE_MICRO_USD: u64 = 50_000;
/// SOL/USD on a local chain: $150.00 ± $0.05.
pub const LOCAL_SOL_USD_CENTS: i64 = 15_000;
/// Calor put into the subsidy vault of a local chain: 10,000,000 Calor (on a public cluster
/// the treasury funds it with `fund_subsidy`).
pub const LOCAL_SUBSIDY_FUNDING: u64 = 10_000_000 * calor_client::catalog::CALOR;

pub use calor_client::pyth::local_sol_usd_price_account;

/// The accounts a bootstrapped protocol is made of.
#[derive(Debug, Clone, Copy)]
pub struct Protocol {
    pub authority: Pubkey,
    pub calor_mint: Pubkey,
    pub treasury: Pubkey,
    pub sol_usd_price: Pubkey,
}

/// Tops `who` up from the faucet (local chains) to at least `LOCAL_FUNDING_LAMPORTS`.
pub async fn fund(chain: &Chain, who: &Pubkey) -> Result<()> {
    let balance = chain.balance(who).await?;
    if balance < LOCAL_FUNDING_LAMPORTS / 2 {
        chain.airdrop(who, LOCAL_FUNDING_LAMPORTS - balance).await?;
    }
    Ok(())
}

/// Config, catalog, regions, the Calor price, staking and the SOL/USD price, signed by the
/// program's upgrade authority. `mint` is the Calor mint's keypair, created here if missing
/// (a local chain has no Calor mint).
pub async fn bootstrap_protocol(
    chain: &Chain,
    authority: &Keypair,
    mint: &Keypair,
    treasury: Pubkey,
) -> Result<Protocol> {
    let me = authority.pubkey();
    fund(chain, &me).await?;
    ensure_mint(chain, authority, mint).await?;

    let (config, _) = pda::config();
    if chain.account::<Config>(&config).await?.is_none() {
        let args = InitializeArgs {
            treasury,
            params: launch_params(),
        };
        chain
            .send(
                "initialize",
                &[ix::initialize(me, mint.pubkey(), args)],
                authority,
                &[],
            )
            .await?;
    }
    for model in &GPU_MODELS {
        if chain
            .account::<GpuModel>(&pda::gpu_model(model.id))
            .await?
            .is_none()
        {
            let add = ix::set_gpu_model(me, model.id, model.args(true));
            chain.send("set_gpu_model", &[add], authority, &[]).await?;
        }
    }
    for region in &REGIONS {
        if chain
            .account::<Region>(&pda::region(region.id))
            .await?
            .is_none()
        {
            let add = ix::set_region(me, region.id, region.args(true));
            chain.send("set_region", &[add], authority, &[]).await?;
        }
    }
    let post = ix::post_calor_price(me, LOCAL_CALOR_PRICE_MICRO_USD);
    chain
        .send("post_calor_price", &[post], authority, &[])
        .await?;
    if chain
        .account::<StakePool>(&pda::stake_pool())
        .await?
        .is_none()
    {
        let init = ix::init_staking(me, mint.pubkey(), spl_token::ID);
        chain.send("init_staking", &[init], authority, &[]).await?;
    }
    let vault = pda::subsidy_vault();
    if chain.token_balance(&vault).await? == 0 {
        // the local mint's authority is the protocol authority: it stands in for the treasury
        let fund = spl_token::instruction::mint_to(
            &spl_token::ID,
            &mint.pubkey(),
            &vault,
            &me,
            &[],
            LOCAL_SUBSIDY_FUNDING,
        )?;
        chain
            .send("fund the subsidy vault", &[fund], authority, &[])
            .await?;
    }
    let sol_usd_price = publish_local_sol_price(chain, LOCAL_SOL_USD_CENTS).await?;
    Ok(Protocol {
        authority: me,
        calor_mint: mint.pubkey(),
        treasury,
        sol_usd_price,
    })
}

async fn ensure_mint(chain: &Chain, payer: &Keypair, mint: &Keypair) -> Result<()> {
    if chain.balance(&mint.pubkey()).await? > 0 {
        return Ok(());
    }
    let len = spl_token::state::Mint::LEN;
    let rent = chain
        .rpc()
        .get_minimum_balance_for_rent_exemption(len)
        .await
        .context("rent for the Calor mint")?;
    let create = system_instruction::create_account(
        &payer.pubkey(),
        &mint.pubkey(),
        rent,
        len as u64,
        &spl_token::ID,
    );
    let init = spl_token::instruction::initialize_mint2(
        &spl_token::ID,
        &mint.pubkey(),
        &payer.pubkey(),
        None,
        CALOR_DECIMALS,
    )?;
    chain
        .send("create Calor mint", &[create, init], payer, &[mint])
        .await?;
    Ok(())
}

/// Writes a fresh SOL/USD `PriceUpdateV2` (local chains: there is no Pyth publisher), dated
/// at the chain's clock so the program's staleness check accepts it. Returns its address.
pub async fn publish_local_sol_price(chain: &Chain, usd_cents: i64) -> Result<Pubkey> {
    let address = local_sol_usd_price_account();
    let now = chain.unix_timestamp().await?;
    let slot = chain.rpc().get_slot().await?;
    let data = pyth::price_update_data(&PythPrice::sol_usd(usd_cents, 5, now), slot);
    let lamports = chain
        .rpc()
        .get_minimum_balance_for_rent_exemption(PRICE_UPDATE_LEN)
        .await?;
    chain
        .set_account(&address, lamports, &RECEIVER_PROGRAM, &data)
        .await?;
    Ok(address)
}

/// Local chains: moves the clock past the staking epoch's end, ends the epoch (anyone may,
/// `payer` pays the epoch record's rent), then republishes the local SOL/USD price and Calor
/// rate at the new time so that quotes keep working. Returns the epoch that ended.
pub async fn end_local_epoch(chain: &Chain, authority: &Keypair) -> Result<u64> {
    let config = chain
        .account::<Config>(&pda::config().0)
        .await?
        .context("the protocol is not initialised")?;
    let pool = chain
        .account::<StakePool>(&pda::stake_pool())
        .await?
        .context("staking is not set up")?;
    let ends = pool
        .epoch_started_at
        .saturating_add(i64::from(config.params.staking.epoch_secs));
    if chain.unix_timestamp().await? <= ends {
        chain.time_travel(ends + 1).await?;
    }
    let advance = ix::advance_epoch(
        authority.pubkey(),
        pool.epoch,
        config.calor_mint,
        spl_token::ID,
    );
    chain
        .send("advance_epoch", &[advance], authority, &[])
        .await?;
    let post = ix::post_calor_price(authority.pubkey(), LOCAL_CALOR_PRICE_MICRO_USD);
    chain
        .send("post_calor_price", &[post], authority, &[])
        .await?;
    publish_local_sol_price(chain, LOCAL_SOL_USD_CENTS).await?;
    Ok(pool.epoch)
}

/// One node a provider lists.
#[derive(Debug, Clone, Copy)]
pub struct NodeSpec {
    pub gpu_model: u16,
    pub gpu_count: u8,
    pub hourly_rate_micro_usd: u64,
}

/// Local chains: gives `wallet` `amount` Calor base units in its associated token account
/// (created, paid by `payer`, if missing), minted by `authority` (the local mint's authority).
/// Returns the account.
pub async fn fund_calor(
    chain: &Chain,
    authority: &Keypair,
    mint: &Pubkey,
    payer: &Keypair,
    wallet: &Pubkey,
    amount: u64,
) -> Result<Pubkey> {
    let account = pda::associated_token(wallet, mint, &spl_token::ID);
    let create = ix::create_associated_token(payer.pubkey(), *wallet, *mint, spl_token::ID);
    let mint_to = spl_token::instruction::mint_to(
        &spl_token::ID,
        mint,
        &account,
        &authority.pubkey(),
        &[],
        amount,
    )?;
    chain
        .send("fund with Calor", &[create, mint_to], payer, &[authority])
        .await?;
    Ok(account)
}

/// Registers `operator` as a provider in `region`, approves it (as the protocol authority)
/// and lists `nodes` that are not listed yet. Returns the provider and node addresses.
pub async fn onboard_provider(
    chain: &Chain,
    authority: &Keypair,
    operator: &Keypair,
    region: u16,
    endpoint: &str,
    nodes: &[NodeSpec],
) -> Result<(Pubkey, Vec<Pubkey>)> {
    let me = operator.pubkey();
    fund(chain, &me).await?;
    let provider = pda::provider(&me);
    let existing = chain.account::<Provider>(&provider).await?;
    if existing.is_none() {
        let args = RegisterProviderArgs {
            endpoint: endpoint.into(),
            payout: me,
        };
        let register = ix::register_provider(me, region, args);
        chain
            .send("register_provider", &[register], operator, &[])
            .await?;
    }
    if !existing.as_ref().is_some_and(|p| p.is_approved()) {
        let approve = ix::approve_provider(authority.pubkey(), me, true);
        chain
            .send("approve_provider", &[approve], authority, &[])
            .await?;
    }
    let mut addresses = Vec::with_capacity(nodes.len());
    for (index, spec) in nodes.iter().enumerate() {
        let index = index as u32;
        let node = pda::node(&provider, index);
        if chain.account::<Node>(&node).await?.is_none() {
            let args = ListNodeArgs {
                gpu_count: spec.gpu_count,
                hourly_rate_micro_usd: spec.hourly_rate_micro_usd,
            };
            let list = ix::list_node(me, index, spec.gpu_model, region, args);
            chain.send("list_node", &[list], operator, &[]).await?;
        }
        addresses.push(node);
    }
    Ok((provider, addresses))
}
