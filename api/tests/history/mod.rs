//! Rental history made on a local chain for the index's tests and benchmark: SOL rentals
//! opened, then cancelled and settled, `per_tx` to a transaction.
use calor::instructions::OpenRentalArgs;
use calor_client::instructions::{self as ix, SettleParties};
use calor_client::{pda, Pubkey};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::stack::Stack;

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
    for batch in ids.chunks(32 * per_tx) {
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
