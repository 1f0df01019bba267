//! Program-derived addresses, from the program's own seed constants.
use anchor_lang::prelude::Pubkey;
use calor::constants::{
    CONFIG_SEED, ESCROW_SEED, GPU_MODEL_SEED, NODE_SEED, PROVIDER_SEED, REGION_SEED, RENTAL_SEED,
};

fn find(seeds: &[&[u8]]) -> Pubkey {
    Pubkey::find_program_address(seeds, &calor::ID).0
}

pub fn config() -> (Pubkey, u8) {
    Pubkey::find_program_address(&[CONFIG_SEED], &calor::ID)
}

pub fn gpu_model(id: u16) -> Pubkey {
    find(&[GPU_MODEL_SEED, &id.to_le_bytes()])
}

pub fn region(id: u16) -> Pubkey {
    find(&[REGION_SEED, &id.to_le_bytes()])
}

pub fn provider(authority: &Pubkey) -> Pubkey {
    find(&[PROVIDER_SEED, authority.as_ref()])
}

pub fn node(provider: &Pubkey, index: u32) -> Pubkey {
    find(&[NODE_SEED, provider.as_ref(), &index.to_le_bytes()])
}

pub fn rental(renter: &Pubkey, id: u64) -> Pubkey {
    find(&[RENTAL_SEED, renter.as_ref(), &id.to_le_bytes()])
}

/// The Calor token account holding a Calor rental's escrow.
pub fn escrow(rental: &Pubkey) -> Pubkey {
    find(&[ESCROW_SEED, rental.as_ref()])
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

    #[test]
    fn addresses_differ_by_every_seed() {
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        assert_ne!(rental(&a, 1), rental(&a, 2));
        assert_ne!(rental(&a, 1), rental(&b, 1));
        assert_ne!(node(&a, 0), node(&a, 1));
        assert_ne!(gpu_model(1), region(1));
        assert_ne!(escrow(&a), escrow(&b));
    }
}
