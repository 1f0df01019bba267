//! The API's tests and benchmark on a local chain: the settings to follow it, and rental
//! history made on it (SOL rentals opened, then cancelled and settled).
use std::time::Duration;

use calor::instructions::OpenRentalArgs;
use calor_api::config::ChainSettings;
use calor_api::jobs::JobSettings;
use calor_client::instructions::{self as ix, SettleParties};
use calor_client::{pda, Pubkey};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::stack::Stack;

/// Follows `stack`'s chain closely (index every 200 ms, market every 300 ms).
pub fn settings(stack: &Stack) -> ChainSettings {
    ChainSettings {
        rpc_url: stack.local.rpc_url(),
        ws_url: stack.local.ws_url(),
        sol_usd_price_account: stack.protocol.sol_usd_price,
        index_poll: Duration::from_millis(200),
        market_refresh: Duration::from_millis(300),
        jobs: JobSettings::default(),
        reindex: false,
    }
}

/// Opens `ids` as SOL rentals of `renter` and cancels and settles each, batches at a time;
/// their addresses.
pub async fn make_history(
    stack: &Stack,
    renter: &Keypair,
    ids: std::ops::Range<u64>,
    per_tx: usize,
) -> Vec<Pubkey> {
    let chain = stack.chain();
    let ids: Vec<u64> = ids.collect();
    let args = |id| OpenRentalArgs {
        id,
        bump: 0,
        escrow_bump: 0,
        hours: 3,
        hourly_rate_micro_usd: 2_000_000,
        region: None,
        near: None,
        ssh_public_key: None,
        forwarded_ports: Vec::new(),
        max_payment: u64::MAX,
    };
    let started = std::time::Instant::now();
    for (n, batch) in ids.chunks(32 * per_tx).enumerate() {
        if n > 0 && n % 10 == 0 {
            eprintln!(
                "{} rentals made in {:.1} s",
                n * 32 * per_tx,
                started.elapsed().as_secs_f64()
            );
        }
        calor_migrations::publish_local_sol_price(chain, calor_migrations::LOCAL_SOL_USD_CENTS)
            .await
            .unwrap();
        let opens = batch.chunks(per_tx).map(|ids| {
            let ixs: Vec<_> = ids
                .iter()
                .map(|&id| {
                    ix::open_rental_sol(renter.pubkey(), 1, stack.protocol.sol_usd_price, args(id))
                })
                .collect();
            async move { chain.send("open", &ixs, renter, &[]).await.unwrap() }
        });
        futures_util::future::join_all(opens).await;
        let stops = batch.chunks(per_tx).map(|ids| {
            let ixs: Vec<_> = ids
                .iter()
                .flat_map(|&id| {
                    let rental = pda::rental(&renter.pubkey(), id);
                    let parties = SettleParties {
                        renter: renter.pubkey(),
                        payee: None,
                        prioritised: false,
                    };
                    [
                        ix::cancel(renter.pubkey(), rental, None),
                        ix::settle_sol(rental, parties),
                    ]
                })
                .collect();
            async move {
                chain
                    .send("cancel+settle", &ixs, renter, &[])
                    .await
                    .unwrap()
            }
        });
        futures_util::future::join_all(stops).await;
    }
    ids.iter()
        .map(|&id| pda::rental(&renter.pubkey(), id))
        .collect()
}
