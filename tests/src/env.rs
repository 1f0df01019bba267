use std::path::PathBuf;

use anchor_lang::prelude::{Clock, Pubkey};
use anchor_lang::solana_program::bpf_loader_upgradeable::{self, UpgradeableLoaderState};
use anchor_lang::{AccountDeserialize, Discriminator};
use litesvm::LiteSVM;
use solana_account::Account;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;

use calor_client::Instruction;

use crate::outcome::{Failure, Outcome, Success};

/// Lamports every fresh test keypair starts with (100 SOL).
pub const DEFAULT_FUNDING: u64 = 100_000_000_000;

/// Where the SBF build writes the program: `$CALOR_SO`, else `<target dir>/deploy/calor.so`.
pub fn program_path() -> PathBuf {
    if let Ok(p) = std::env::var("CALOR_SO") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("deploy/calor.so")
}

/// One LiteSVM instance with the Calor program deployed under the upgradeable loader, its
/// upgrade authority set to `upgrade_authority` (LiteSVM leaves it empty).
pub struct TestEnv {
    pub svm: LiteSVM,
    pub upgrade_authority: Keypair,
}

impl TestEnv {
    pub fn new() -> Self {
        let path = program_path();
        let so = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read {}: {e}. Build it first with tools/sbf/build.sh (or anchor build)",
                path.display()
            )
        });
        let mut svm = LiteSVM::new();
        svm.add_program(calor::ID, &so)
            .expect("LiteSVM rejected calor.so");
        let upgrade_authority = Keypair::new();
        let mut env = Self {
            svm,
            upgrade_authority,
        };
        env.set_upgrade_authority(Some(env.upgrade_authority.pubkey()));
        env.fund(&env.upgrade_authority.pubkey(), DEFAULT_FUNDING);
        env
    }

    /// Rewrites the ProgramData header (bincode `UpgradeableLoaderState::ProgramData`: u32
    /// tag 3, u64 slot, option tag, key), keeping the deployed program bytes after it.
    pub fn set_upgrade_authority(&mut self, authority: Option<Pubkey>) {
        let address = calor_client::pda::program_data();
        let mut account = self.svm.get_account(&address).expect("program data");
        assert_eq!(account.owner, bpf_loader_upgradeable::ID);
        assert_eq!(
            account.data[0..4],
            3u32.to_le_bytes(),
            "not a ProgramData account"
        );
        let header = &mut account.data[..UpgradeableLoaderState::size_of_programdata_metadata()];
        header[12..].fill(0);
        if let Some(key) = authority {
            header[12] = 1;
            header[13..45].copy_from_slice(key.as_ref());
        }
        self.svm.set_account(address, account).unwrap();
    }

    pub fn fund(&mut self, to: &Pubkey, lamports: u64) {
        self.svm.airdrop(to, lamports).expect("airdrop");
    }

    /// A new keypair holding [`DEFAULT_FUNDING`].
    pub fn funded_keypair(&mut self) -> Keypair {
        let k = Keypair::new();
        self.fund(&k.pubkey(), DEFAULT_FUNDING);
        k
    }

    pub fn clock(&self) -> Clock {
        self.svm.get_sysvar::<Clock>()
    }

    /// Sets the cluster's unix time (and moves the slot forward so blockhashes change).
    pub fn warp_to_timestamp(&mut self, unix_timestamp: i64) {
        let mut clock = self.clock();
        clock.unix_timestamp = unix_timestamp;
        clock.slot += 1;
        self.svm.set_sysvar(&clock);
    }

    pub fn advance_secs(&mut self, secs: i64) {
        let now = self.clock().unix_timestamp;
        self.warp_to_timestamp(now + secs);
    }

    /// Signs with `payer` plus `signers` and executes; every call gets a fresh blockhash so
    /// identical transactions are not rejected as duplicates.
    pub fn send(&mut self, ixs: &[Instruction], payer: &Keypair, signers: &[&Keypair]) -> Outcome {
        let mut all: Vec<&Keypair> = vec![payer];
        all.extend(
            signers
                .iter()
                .copied()
                .filter(|s| s.pubkey() != payer.pubkey()),
        );
        let tx = Transaction::new_signed_with_payer(
            ixs,
            Some(&payer.pubkey()),
            &all,
            self.svm.latest_blockhash(),
        );
        let result = self.svm.send_transaction(tx);
        self.svm.expire_blockhash();
        match result {
            Ok(meta) => Ok(Success {
                compute_units: meta.compute_units_consumed,
                logs: meta.logs,
            }),
            Err(f) => Err(Failure {
                err: f.err,
                logs: f.meta.logs,
            }),
        }
    }

    pub fn account(&self, address: &Pubkey) -> Option<Account> {
        self.svm.get_account(address).filter(|a| a.lamports > 0)
    }

    pub fn lamports(&self, address: &Pubkey) -> u64 {
        self.account(address).map_or(0, |a| a.lamports)
    }

    /// Decodes a program account, checking its owner and discriminator.
    pub fn decode<T: AccountDeserialize + Discriminator>(&self, address: &Pubkey) -> T {
        let account = self
            .account(address)
            .unwrap_or_else(|| panic!("account {address} does not exist"));
        assert_eq!(account.owner, calor::ID, "{address} is not owned by Calor");
        calor_client::accounts::decode(&account.data)
            .unwrap_or_else(|e| panic!("decoding {address}: {e}"))
    }

    pub fn rent_exempt(&self, len: usize) -> u64 {
        self.svm.minimum_balance_for_rent_exemption(len)
    }
}

impl TestEnv {
    /// An independent copy: the SVM state is cloned, so forks diverge freely.
    pub fn fork(&self) -> Self {
        Self {
            svm: self.svm.clone(),
            upgrade_authority: self.upgrade_authority.insecure_clone(),
        }
    }
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}
