//! `calor-dev`: a development wallet and price keeper for a local chain, so the API can be
//! driven with `curl` (README). A browser wallet does the signing in real use; this tool
//! keeps a key file under `.calor/keys` and signs what the API hands it.
//!
//! calor-dev address KEY              the key's address (the file is created on first use)
//! calor-dev fund KEY [--rpc URL]     tops the key up with local SOL
//! calor-dev fund-calor KEY AMOUNT [--keys DIR]
//!                                    gives the key AMOUNT whole Calor on a local chain, minted
//!                                    by the local mint's authority (DIR/authority.json, DIR
//!                                    .calor/keys unless given)
//! calor-dev end-epoch [--keys DIR]    on a local chain: moves the clock past the staking
//!                                    epoch's end and ends it (rewards are shared), signed by
//!                                    DIR/authority.json; the local prices are republished
//! calor-dev sign-in KEY              reads the API's challenge (JSON) on stdin, prints the
//!                                    `POST /api/auth/verify` body
//! calor-dev sign KEY                 reads the API's answer holding `transaction` (JSON) on
//!                                    stdin, prints the `POST /api/tx` body with it signed
//! calor-dev terminal KEY PROVISIONER_URL RENTAL [--run COMMAND]
//!                                    opens the rental's web terminal, signed by KEY (this
//!                                    terminal in raw mode, or COMMAND typed and its output
//!                                    printed)
//! calor-dev jupyter KEY PROVISIONER_URL RENTAL
//!                                    prints the rental's Jupyter URL with its secret
//! calor-dev keep-price [--rpc URL] [--every SECS]
//!                                    publishes the local SOL/USD price (once, or every SECS:
//!                                    a local feed is as old as its last publication)
use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use base64::Engine as _;
use calor_client::rpc::{Chain, SendPolicy};
use calor_client::siws::SignInMessage;
use calor_migrations::keys;
use serde_json::{json, Value};
use solana_signer::Signer;

fn stdin_json() -> Result<Value> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    serde_json::from_str(&text).context("stdin is not JSON")
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let rpc = flag("--rpc").unwrap_or_else(|| "http://127.0.0.1:8899".into());
    let key = || -> Result<solana_keypair::Keypair> {
        let path = PathBuf::from(args.get(1).context("a key file")?);
        Ok(keys::read_or_create(&path)?)
    };
    match args.first().map(String::as_str) {
        Some("address") => println!("{}", key()?.pubkey()),
        Some("fund") => {
            let chain = Chain::new(rpc, SendPolicy::default());
            let wallet = key()?;
            calor_migrations::fund(&chain, &wallet.pubkey()).await?;
            println!("{} holds {} lamports", wallet.pubkey(), chain.balance(&wallet.pubkey()).await?);
        }
        Some("fund-calor") => {
            let chain = Chain::new(rpc, SendPolicy::default());
            let wallet = key()?;
            let whole: u64 = args
                .get(2)
                .context("AMOUNT (whole Calor)")?
                .parse()
                .context("AMOUNT is a whole number of Calor")?;
            let units = whole
                .checked_mul(10u64.pow(u32::from(calor_client::catalog::CALOR_DECIMALS)))
                .context("AMOUNT is too large")?;
            let dir = PathBuf::from(flag("--keys").unwrap_or_else(|| ".calor/keys".into()));
            let authority = keys::read(&dir.join("authority.json"))
                .context("the local mint's authority (the local chain's protocol authority)")?;
            let mint = keys::read(&dir.join("calor-mint.json")).context("the local Calor mint's key")?;
            let account =
                calor_migrations::fund_calor(&chain, &authority, &mint.pubkey(), &authority, &wallet.pubkey(), units)
                    .await?;
            println!("{} holds {} Calor base units", wallet.pubkey(), chain.token_balance(&account).await?);
        }
        Some("end-epoch") => {
            let chain = Chain::new(rpc, SendPolicy::default());
            let dir = PathBuf::from(flag("--keys").unwrap_or_else(|| ".calor/keys".into()));
            let authority = keys::read(&dir.join("authority.json"))
                .context("the local protocol authority (it pays the epoch record)")?;
            let ended = calor_migrations::end_local_epoch(&chain, &authority).await?;
            println!("epoch {ended} ended");
        }
        Some("sign-in") => {
            let wallet = key()?;
            let input = stdin_json()?;
            let text = SignInMessage::answering(&input, &wallet.pubkey().to_string())
                .context("not a sign-in challenge")?
                .text();
            let b64 = base64::engine::general_purpose::STANDARD;
            let signature = wallet.sign_message(text.as_bytes());
            println!(
                "{}",
                json!({
                    "address": wallet.pubkey().to_string(),
                    "signedMessage": b64.encode(text.as_bytes()),
                    "signature": b64.encode(signature.as_ref()),
                })
            );
        }
        Some("sign") => {
            let wallet = key()?;
            let answer = stdin_json()?;
            let unsigned = answer["transaction"]
                .as_str()
                .context("no `transaction` in the JSON on stdin")?;
            let signed = calor_client::wire::sign(unsigned, &wallet)?;
            println!("{}", json!({ "transaction": signed }));
        }
        Some("terminal") => {
            let wallet = key()?;
            let (endpoint, rental) = (args.get(2).context("PROVISIONER_URL")?, args.get(3).context("RENTAL")?);
            let rental = rental.parse().context("RENTAL is not an address")?;
            let run = flag("--run");
            let closed =
                calor_migrations::terminal::terminal(&wallet, endpoint, &rental, run.as_deref()).await?;
            eprintln!("\r\n[terminal closed: {} {}]", closed.code, closed.reason);
            if closed.code != 1000 {
                std::process::exit(1);
            }
        }
        Some("jupyter") => {
            let wallet = key()?;
            let (endpoint, rental) = (args.get(2).context("PROVISIONER_URL")?, args.get(3).context("RENTAL")?);
            let rental = rental.parse().context("RENTAL is not an address")?;
            println!("{}", calor_migrations::terminal::jupyter(&wallet, endpoint, &rental).await?);
        }
        Some("keep-price") => {
            let chain = Chain::new(rpc, SendPolicy::default());
            let every = flag("--every").map(|s| s.parse::<u64>()).transpose()?;
            loop {
                calor_migrations::publish_local_sol_price(&chain, calor_migrations::LOCAL_SOL_USD_CENTS)
                    .await?;
                let Some(secs) = every else { break };
                tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
            }
        }
        _ => bail!("usage: calor-dev address|fund|sign-in|sign KEY, calor-dev fund-calor KEY AMOUNT, calor-dev end-epoch, calor-dev terminal|jupyter KEY PROVISIONER_URL RENTAL, or calor-dev keep-price [--every SECS] (see the source's header)"),
    }
    Ok(())
}
