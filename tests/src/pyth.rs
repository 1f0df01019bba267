//! Pyth `PriceUpdateV2` accounts written in their real on-chain format: the receiver
//! program's Anchor discriminator and Borsh layout (serialised by `pyth-solana-receiver-sdk`
//! itself), owned by the Pyth receiver program, exactly as `post_update` leaves them.
use anchor_lang::prelude::Pubkey;
use pyth_solana_receiver_sdk::price_update::PriceUpdateV2;
use solana_account::Account;

use crate::TestEnv;

pub use calor_client::pyth::{price_update_data, PythPrice, SOL_USD_FEED_ID};

/// Writes (or overwrites) a price update account at `address`, owned by `owner`
/// (the Pyth receiver program unless a test forges one).
pub fn write_price_update_owned(env: &mut TestEnv, address: Pubkey, p: &PythPrice, owner: Pubkey) {
    let slot = env.clock().slot;
    let data = price_update_data(p, slot);
    let lamports = env.rent_exempt(PriceUpdateV2::LEN);
    env.svm
        .set_account(
            address,
            Account {
                lamports,
                data,
                owner,
                executable: false,
                rent_epoch: 0,
            },
        )
        .expect("write price update");
}

pub fn write_price_update(env: &mut TestEnv, address: Pubkey, p: &PythPrice) {
    write_price_update_owned(env, address, p, pyth_solana_receiver_sdk::ID);
}
