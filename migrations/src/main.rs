//! `calor-migrate`: sets a chain up for a cluster. On a local chain it creates every key it
//! needs under `--keys` (kept for the next run), the Calor mint and the oracle price.
//!
//! calor-migrate --rpc http://127.0.0.1:8899 --keys .calor/keys
//!               [--region 1] [--nodes 1] [--gpu-model 1] [--endpoint http://127.0.0.1:9400]
//! calor-migrate key <file>     prints the key's address, creating the file on first use
//!                              (the local chain is started with the authority's address)
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use calor_client::rpc::{Chain, SendPolicy};
use calor_migrations::{bootstrap_protocol, keys, onboard_provider, NodeSpec};
use solana_signer::Signer;

struct Args {
    rpc: String,
    keys: PathBuf,
    region: u16,
    nodes: u32,
    gpu_model: u16,
    endpoint: String,
}

fn parse() -> Result<Args> {
    let mut a = Args {
        rpc: "http://127.0.0.1:8899".into(),
        keys: PathBuf::from(".calor/keys"),
        region: 1,
        nodes: 1,
        gpu_model: 1,
        endpoint: "http://127.0.0.1:9400".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--rpc" => a.rpc = value()?,
            "--keys" => a.keys = value()?.into(),
            "--region" => a.region = value()?.parse()?,
            "--nodes" => a.nodes = value()?.parse()?,
            "--gpu-model" => a.gpu_model = value()?.parse()?,
            "--endpoint" => a.endpoint = value()?,
            other => bail!("unknown argument {other} (see the header of migrations/src/main.rs)"),
        }
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut argv = std::env::args().skip(1);
    if argv.next().as_deref() == Some("key") {
        let path = PathBuf::from(argv.next().context("key <file>")?);
        println!("{}", keys::read_or_create(&path)?.pubkey());
        return Ok(());
    }
    let args = parse()?;
    let chain = Chain::new(&args.rpc, SendPolicy::default());
    let authority = keys::read(&args.keys.join("authority.json"))
        .context("the program's upgrade authority key (the local chain is started with it)")?;
    let mint = keys::read_or_create(&args.keys.join("calor-mint.json"))?;
    let treasury = keys::read_or_create(&args.keys.join("treasury.json"))?;
    let operator = keys::read_or_create(&args.keys.join("operator.json"))?;

    let protocol = bootstrap_protocol(&chain, &authority, &mint, treasury.pubkey()).await?;
    let node = NodeSpec {
        gpu_model: args.gpu_model,
        gpu_count: 1,
        hourly_rate_micro_usd: 2_000_000,
    };
    let nodes = vec![node; args.nodes as usize];
    let (provider, node_addresses) = onboard_provider(
        &chain,
        &authority,
        &operator,
        args.region,
        &args.endpoint,
        &nodes,
    )
    .await?;
    println!(
        "{}",
        serde_json::json!({
            "program": calor_client::PROGRAM_ID.to_string(),
            "calor_mint": protocol.calor_mint.to_string(),
            "treasury": protocol.treasury.to_string(),
            "sol_usd_price": protocol.sol_usd_price.to_string(),
            "operator": operator.pubkey().to_string(),
            "provider": provider.to_string(),
            "nodes": node_addresses.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
        })
    );
    Ok(())
}
