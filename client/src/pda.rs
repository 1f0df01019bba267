//! Program-derived addresses, from the program's own seed constants.
use anchor_lang::prelude::Pubkey;
use calor::constants::CONFIG_SEED;

pub fn config() -> (Pubkey, u8) {
    Pubkey::find_program_address(&[CONFIG_SEED], &calor::ID)
}

/// The upgradeable loader's ProgramData account of the Calor program.
pub fn program_data() -> Pubkey {
    Pubkey::find_program_address(
        &[calor::ID.as_ref()],
        &anchor_lang::solana_program::bpf_loader_upgradeable::ID,
    )
    .0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_pda_is_stable_and_off_curve() {
        let (a, bump) = config();
        assert_eq!(config(), (a, bump));
        assert!(!a.is_on_curve());
        assert_eq!(
            Pubkey::create_program_address(&[CONFIG_SEED, &[bump]], &calor::ID).unwrap(),
            a
        );
    }
}
