//! Program-derived addresses, from the program's own seed constants.
use anchor_lang::prelude::Pubkey;
use calor::constants::{
    CONFIG_SEED, EPOCH_SEED, ESCROW_SEED, GPU_MODEL_SEED, NODE_SEED, PROPOSAL_SEED, PROVIDER_SEED,
    REGION_SEED, RENTAL_SEED, REWARDS_VAULT_SEED, STAKE_POOL_SEED, STAKE_SEED, STAKE_VAULT_SEED,
    SUBSIDY_POOL_SEED, SUBSIDY_VAULT_SEED, VOTE_SEED,
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
    rental_with_bump(renter, id).0
}

/// The rental PDA and its bump, which `open_rental_*` take as an argument (the program
/// lets the runtime check it rather than searching for it on-chain).
pub fn rental_with_bump(renter: &Pubkey, id: u64) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[RENTAL_SEED, renter.as_ref(), &id.to_le_bytes()],
        &calor::ID,
    )
}

/// The Calor token account holding a Calor rental's escrow.
pub fn escrow(rental: &Pubkey) -> Pubkey {
    escrow_with_bump(rental).0
}

pub fn escrow_with_bump(rental: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[ESCROW_SEED, rental.as_ref()], &calor::ID)
}

pub fn subsidy_pool() -> Pubkey {
    find(&[SUBSIDY_POOL_SEED])
}

pub fn subsidy_vault() -> Pubkey {
    find(&[SUBSIDY_VAULT_SEED])
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

/// The associated token program, which derives every wallet's canonical token account.
pub const ASSOCIATED_TOKEN_PROGRAM: Pubkey =
    anchor_lang::pubkey!("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");

/// `wallet`'s associated token account of `mint` under `token_program`.
pub fn associated_token(wallet: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[wallet.as_ref(), token_program.as_ref(), mint.as_ref()],
        &ASSOCIATED_TOKEN_PROGRAM,
    )
    .0
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
