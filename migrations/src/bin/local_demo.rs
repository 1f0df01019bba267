//! `calor-local-demo`: a renter's view of one rental on a running local cluster (started by
//! scripts/demo.sh): open and pay, watch the provisioner bring the instance up, log into it
//! over SSH, then jump the local clock past the paid hour and watch it go away and settle.
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use calor::instructions::OpenRentalArgs;
use calor_client::accounts::{Provider, Rental, RentalState};
use calor_client::rpc::{Chain, SendPolicy};
use calor_client::{instructions as ix, pda};
use calor_migrations::{
    fund, local_sol_usd_price_account, publish_local_sol_price, LOCAL_SOL_USD_CENTS,
};
use solana_keypair::Keypair;
use solana_signer::Signer;

const LAMPORTS_PER_SOL: f64 = 1e9;

fn sol(lamports: u64) -> String {
    format!("{:.9} SOL", lamports as f64 / LAMPORTS_PER_SOL)
}

async fn wait_for(
    chain: &Chain,
    rental: &calor_client::Pubkey,
    want: &str,
    done: impl Fn(Option<&Rental>) -> bool,
) -> Result<Option<Rental>> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = chain.account::<Rental>(rental).await?;
        if done(r.as_ref()) {
            return Ok(r);
        }
        if Instant::now() > deadline {
            bail!("rental {rental} did not become {want} (see .calor/provisioner.log)");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn http_get(url: &str) -> Result<serde_json::Value> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url
        .strip_prefix("http://")
        .context("provider endpoint must be http://")?;
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut s = tokio::net::TcpStream::connect(host).await?;
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    let mut body = String::new();
    s.read_to_string(&mut body).await?;
    Ok(serde_json::from_str(
        body.split("\r\n\r\n").nth(1).unwrap_or("null"),
    )?)
}

#[tokio::main]
async fn main() -> Result<()> {
    let rpc = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:8899".into());
    let dir = PathBuf::from(std::env::args().nth(2).unwrap_or_else(|| ".calor".into()));
    let chain = Chain::new(&rpc, SendPolicy::default());

    println!("\n[1/6] A renter with SOL and an SSH key");
    let renter = Keypair::new();
    fund(&chain, &renter.pubkey()).await?;
    let key = dir.join(format!("renter-{}", renter.pubkey()));
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "calor-renter", "-f"])
        .arg(&key)
        .status()?;
    if !ok.success() {
        bail!("ssh-keygen failed");
    }
    let public_key = std::fs::read_to_string(key.with_extension("pub"))?
        .trim()
        .to_string();
    println!(
        "      renter {}  balance {}",
        renter.pubkey(),
        sol(chain.balance(&renter.pubkey()).await?)
    );

    println!("\n[2/6] Open a 1-hour H100 rental, paid in SOL at the oracle price");
    publish_local_sol_price(&chain, LOCAL_SOL_USD_CENTS).await?;
    // the quote the wallet approves: $6 at the published price, with 1% of slack for a price
    // that moves before the transaction lands (the program refuses to take more)
    let quote =
        calor::math::usd_to_lamports(6_000_000, LOCAL_SOL_USD_CENTS * 1_000_000, 5_000_000, -8)
            .map_err(|e| anyhow::anyhow!("quote: {e:?}"))?;
    let args = OpenRentalArgs {
        id: 1,
        bump: 0,
        escrow_bump: 0,
        hours: 1,
        hourly_rate_micro_usd: 6_000_000,
        region: None,
        near: None,
        ssh_public_key: Some(public_key),
        forwarded_ports: Vec::new(),
        max_payment: quote + quote / 100,
    };
    let rental = pda::rental(&renter.pubkey(), 1);
    let opened_at = Instant::now();
    chain
        .send(
            "open_rental_sol",
            &[ix::open_rental_sol(
                renter.pubkey(),
                1,
                local_sol_usd_price_account(),
                args,
            )],
            &renter,
            &[],
        )
        .await?;
    let r = chain.account::<Rental>(&rental).await?.context("rental")?;
    let after_open = chain.balance(&renter.pubkey()).await?;
    let held = chain.balance(&rental).await?;
    println!(
        "      rental {rental}: {} in escrow ($6.00; approved up to {}), {} rent",
        sol(r.escrowed),
        sol(quote + quote / 100),
        sol(held - r.escrowed)
    );

    println!("\n[3/6] The provisioner claims it and starts an instance");
    let r = wait_for(&chain, &rental, "claimed", |r| {
        r.is_some_and(|r| r.state() != RentalState::Queued)
    })
    .await?
    .context("rental")?;
    println!(
        "      {:?} after {:.2} s (node {})",
        r.state(),
        opened_at.elapsed().as_secs_f64(),
        r.node().map(|n| n.to_string()).unwrap_or_default()
    );
    let r = wait_for(&chain, &rental, "running", |r| {
        r.is_some_and(|r| r.state() == RentalState::Running)
    })
    .await?
    .context("rental")?;
    println!(
        "      Running after {:.2} s: SSH answered, start recorded on-chain",
        opened_at.elapsed().as_secs_f64()
    );

    println!("\n[4/6] Log in: the provider's endpoint (on-chain) says where");
    let node = r.node().context("node")?;
    let provider_address = chain
        .account::<calor_client::accounts::Node>(&node)
        .await?
        .context("node")?
        .provider;
    let provider = chain
        .account::<Provider>(&provider_address)
        .await?
        .context("provider")?;
    let endpoint = provider.endpoint();
    let status = http_get(&format!("{endpoint}/rentals/{rental}")).await?;
    let port = status["ssh_port"]
        .as_u64()
        .context("no SSH port reported")?;
    println!("      {endpoint}/rentals/{rental} → {status}");
    let out = Command::new("ssh")
        .arg("-i").arg(&key)
        .args(["-p", &port.to_string(), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"])
        .args(["root@127.0.0.1", "echo \"logged in to $(hostname) as $(whoami)\"; df -h /workspace | tail -1; nvidia-smi -L 2>/dev/null || echo 'no GPU on this host (declared inventory)'"])
        .output()?;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        println!("      $ {line}");
    }
    if !out.status.success() {
        bail!("ssh failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    println!("\n[5/6] Jump the local chain's clock past the paid hour (surfnet_timeTravel)");
    chain.time_travel(r.ends_at + 1).await?;
    let gone_at = Instant::now();
    wait_for(&chain, &rental, "settled", |r| r.is_none()).await?;
    println!(
        "      expired, instance removed, settled and closed in {:.2} s",
        gone_at.elapsed().as_secs_f64()
    );

    println!("\n[6/6] Where the money went");
    let back = chain.balance(&renter.pubkey()).await? - after_open;
    println!(
        "      renter got back {} (the rent; a fully used hour refunds no time)",
        sol(back)
    );
    println!(
        "      provider PDA now holds {}",
        sol(chain.balance(&provider_address).await?)
    );
    let leftover = Command::new("podman")
        .args([
            "ps",
            "-a",
            "--filter",
            &format!("label=calor.rental={rental}"),
            "-q",
        ])
        .output();
    if let Ok(o) = leftover {
        println!(
            "      containers left for this rental: {}",
            String::from_utf8_lossy(&o.stdout).lines().count()
        );
    }
    println!(
        "\nDone. Logs: {}/localnet.log, {}/provisioner.log",
        dir.display(),
        dir.display()
    );
    Ok(())
}
