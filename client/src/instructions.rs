//! Instruction builders. Each takes the signers and arguments and fills in every derived
//! account, so callers cannot get an address wrong.
use anchor_lang::{InstructionData, ToAccountMetas};
use calor::instructions::InitializeArgs;

use crate::{pda, Instruction, Pubkey};

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: calor::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// `initialize`: `authority` must be the program's upgrade authority.
pub fn initialize(authority: Pubkey, calor_mint: Pubkey, args: InitializeArgs) -> Instruction {
    build(
        calor::accounts::Initialize {
            config: pda::config().0,
            calor_mint,
            authority,
            program: calor::ID,
            program_data: pda::program_data(),
            system_program: anchor_lang::system_program::ID,
        },
        calor::instruction::Initialize { args },
    )
}
