//! The Calor client: everything off-chain code needs to talk to the program (PDAs,
//! instruction builders, account decoding). Used by the tests now and by the provisioner,
//! the API and the CLI later, so that each of them derives addresses and encodes
//! instructions exactly one way.
pub mod access;
pub mod accounts;
pub mod catalog;
pub mod events;
#[cfg(feature = "rpc")]
pub mod history;
pub mod instructions;
#[cfg(feature = "rpc")]
pub mod keys;
pub mod market;
#[cfg(feature = "rpc")]
pub mod opening;
pub mod pda;
pub mod pyth;
pub mod queue;
pub mod quote;
pub mod renting;
#[cfg(feature = "rpc")]
pub mod rpc;
#[cfg(feature = "sdk")]
pub mod sdk;
pub mod siws;
#[cfg(feature = "rpc")]
pub mod staking;
#[cfg(feature = "watch")]
pub mod watch;
#[cfg(feature = "rpc")]
pub mod wire;

pub use anchor_lang::prelude::Pubkey;
pub use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
pub use calor::ID as PROGRAM_ID;
