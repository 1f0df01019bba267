//! Program-derived addresses, from the program's own seed constants.
use anchor_lang::prelude::Pubkey;
use calor::constants::{
    CONFIG_SEED, EPOCH_SEED, ESCROW_SEED, GPU_MODEL_SEED, NODE_SEED, PROPOSAL_SEED, PROVIDER_SEED,
    REGION_SEED, RENTAL_SEED, REWARDS_VAULT_SEED, STAKE_POOL_SEED, STAKE_SEED, STAKE_VAULT_SEED,
    VOTE_SEED,
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

/// The first rental id from `from` on whose rental PDA (and, for a Calor rental, escrow
/// PDA) has the canonical bump 255.
///
/// `open_rental_*` derive these addresses on-chain with `find_program_address`, which pays
/// 1,500 CU for every bump it tries; half of all ids need a second try, one in eight a
/// fourth. The id is only the renter's nonce, so a client may as well pick one that costs a
/// single try: it searches two ids on average (four for Calor), off-chain.
pub fn cheapest_rental_id(renter: &Pubkey, from: u64, calor: bool) -> u64 {
    let first_try = |seeds: &[&[u8]]| Pubkey::find_program_address(seeds, &calor::ID).1 == u8::MAX;
    (from..=u64::MAX)
        .find(|id| {
            let rental_seeds: &[&[u8]] = &[RENTAL_SEED, renter.as_ref(), &id.to_le_bytes()];
            first_try(rental_seeds)
                && (!calor || first_try(&[ESCROW_SEED, rental(renter, *id).as_ref()]))
        })
        .expect("an id with bump 255 exists well before u64::MAX")
}

pub fn stake_pool() -> Pubkey {
    find(&[STAKE_POOL_SEED])
}

pub fn stake_vault() -> Pubkey {
    find(&[STAKE_VAULT_SEED])
}

pub fn rewards_vault() -> Pubkey {
    find(&[REWARDS_VAULT_SEED])
}

pub fn stake(owner: &Pubkey) -> Pubkey {
    find(&[STAKE_SEED, owner.as_ref()])
}

pub fn epoch_record(epoch: u64) -> Pubkey {
    find(&[EPOCH_SEED, &epoch.to_le_bytes()])
}

pub fn proposal(id: u64) -> Pubkey {
    find(&[PROPOSAL_SEED, &id.to_le_bytes()])
}

pub fn vote_record(proposal: &Pubkey, voter: &Pubkey) -> Pubkey {
    find(&[VOTE_SEED, proposal.as_ref(), voter.as_ref()])
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

    #[test]
    fn cheapest_rental_id_has_first_try_bumps() {
        let renter = Pubkey::new_unique();
        for from in [0, 1, 1_000] {
            let id = cheapest_rental_id(&renter, from, true);
            assert!(id >= from);
            let seeds: &[&[u8]] = &[RENTAL_SEED, renter.as_ref(), &id.to_le_bytes()];
            let (rental, bump) = Pubkey::find_program_address(seeds, &calor::ID);
            assert_eq!(bump, 255);
            let escrow_seeds: &[&[u8]] = &[ESCROW_SEED, rental.as_ref()];
            assert_eq!(
                Pubkey::find_program_address(escrow_seeds, &calor::ID).1,
                255
            );
            // Nothing cheaper was skipped.
            assert!((from..id).all(|skipped| cheapest_rental_id(&renter, skipped, true) == id));
        }
    }
}
