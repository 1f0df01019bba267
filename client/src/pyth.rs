//! Pyth `PriceUpdateV2` accounts in their real on-chain format: the receiver program's Anchor
//! discriminator and Borsh layout (serialised by `pyth-solana-receiver-sdk` itself), exactly as
//! `post_update` leaves them. The local chain and the LiteSVM tests have no Pyth publisher: they
//! write these accounts directly.
use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountSerialize;
use pyth_solana_receiver_sdk::price_update::{PriceFeedMessage, PriceUpdateV2, VerificationLevel};

/// The Pyth receiver program, owner of every genuine price update account.
pub const RECEIVER_PROGRAM: Pubkey = pyth_solana_receiver_sdk::ID;
/// Size of a `PriceUpdateV2` account.
pub const PRICE_UPDATE_LEN: usize = PriceUpdateV2::LEN;

/// Pyth's SOL/USD feed id (the same on every chain Pyth serves).
pub const SOL_USD_FEED_ID: [u8; 32] = [
    0xef, 0x0d, 0x8b, 0x6f, 0xda, 0x2c, 0xeb, 0xa4, 0x1d, 0xa1, 0x5d, 0x40, 0x95, 0xd1, 0xda, 0x39,
    0x2a, 0x0d, 0x2f, 0x8e, 0xd0, 0xc6, 0xc7, 0xbc, 0x0f, 0x4c, 0xfa, 0xc8, 0xc2, 0x80, 0xb5, 0x6d,
];

/// One observation: `price × 10^exponent` USD, ± `conf × 10^exponent`.
#[derive(Debug, Clone, Copy)]
pub struct PythPrice {
    pub feed_id: [u8; 32],
    pub price: i64,
    pub conf: u64,
    pub exponent: i32,
    pub publish_time: i64,
    pub verification: VerificationLevel,
}

impl PythPrice {
    /// SOL/USD at `usd_cents` with a confidence of `conf_cents`, in Pyth's usual exponent -8.
    pub fn sol_usd(usd_cents: i64, conf_cents: u64, publish_time: i64) -> Self {
        Self {
            feed_id: SOL_USD_FEED_ID,
            price: usd_cents * 1_000_000,
            conf: conf_cents * 1_000_000,
            exponent: -8,
            publish_time,
            verification: VerificationLevel::Full,
        }
    }
}

/// Serialises a `PriceUpdateV2` with its discriminator, as the receiver program stores it.
pub fn price_update_data(p: &PythPrice, posted_slot: u64) -> Vec<u8> {
    let update = PriceUpdateV2 {
        write_authority: Pubkey::new_unique(),
        verification_level: p.verification,
        price_message: PriceFeedMessage {
            feed_id: p.feed_id,
            price: p.price,
            conf: p.conf,
            exponent: p.exponent,
            publish_time: p.publish_time,
            prev_publish_time: p.publish_time - 1,
            ema_price: p.price,
            ema_conf: p.conf,
        },
        posted_slot,
    };
    let mut data = Vec::with_capacity(PriceUpdateV2::LEN);
    update
        .try_serialize(&mut data)
        .expect("serialise PriceUpdateV2");
    data
}

/// Where a local chain keeps its SOL/USD `PriceUpdateV2` (any address works: the program
/// checks the owner, the feed id and freshness, not the address).
pub fn local_sol_usd_price_account() -> Pubkey {
    Pubkey::find_program_address(&[b"calor-local-sol-usd"], &RECEIVER_PROGRAM).0
}

/// Pyth's push-oracle program, which keeps the sponsored price feed accounts.
pub const PUSH_ORACLE_PROGRAM: Pubkey = pyth_solana_receiver_sdk::PYTH_PUSH_ORACLE_ID;

/// Pyth's sponsored SOL/USD `PriceUpdateV2` on a public cluster: shard 0 of the push oracle
/// for the SOL/USD feed id.
pub fn sponsored_sol_usd_price_account() -> Pubkey {
    Pubkey::find_program_address(
        &[&0u16.to_le_bytes(), &SOL_USD_FEED_ID],
        &PUSH_ORACLE_PROGRAM,
    )
    .0
}

#[cfg(test)]
mod sponsored_tests {
    #[test]
    fn the_sponsored_sol_usd_account_is_pyths() {
        // the address Pyth documents for SOL/USD on Solana mainnet and devnet
        assert_eq!(
            super::sponsored_sol_usd_price_account().to_string(),
            "7UVimffxr9ow1uXYxsr4LHAcV58mLzhmwaeKvJ1pjLiE"
        );
    }
}
