//! Calor: hourly rentals of bare-metal GPUs, escrowed on-chain and paid in SOL or the Calor token.
#![deny(arithmetic_overflow)]

// The offline SBF route (tools/sbf) links memcpy & co. from here; platform-tools ships its own.
#[cfg(target_os = "solana")]
use solana_compiler_builtins as _;

use anchor_lang::prelude::*;

pub mod constants;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod math;
pub mod state;

use instructions::*;

declare_id!("Ac9YEmcu7Pd33k1nYUrEoC9shEJo8uxsr6MrNFRhasiJ");

#[program]
pub mod calor {
    use super::*;

    /// Creates the global config. Only the program's upgrade authority may call it, once.
    pub fn initialize(ctx: Context<Initialize>, args: InitializeArgs) -> Result<()> {
        instructions::initialize::handler(ctx, args)
    }
}
