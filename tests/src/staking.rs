//! Staking helpers on a [`Market`]: stakers with Calor, epoch advances, reward funding and
//! the instructions with their epoch records filled in from chain state.
use anchor_lang::prelude::Pubkey;
use calor::state::{ProposalAction, Stake, StakePool};
use calor_client::accounts::epoch_record_needed;
use calor_client::instructions::{self as ix, StakeTokens};
use calor_client::pda;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::market::Market;
use crate::outcome::{Outcome, OutcomeExt};
use crate::spl;

/// A wallet with Calor to stake.
pub struct Staker {
    pub keypair: Keypair,
    pub token: Pubkey,
}

impl Staker {
    pub fn key(&self) -> Pubkey {
        self.keypair.pubkey()
    }
}

impl Market {
    /// A new wallet holding 1,000,000 Calor (the same as a renter).
    pub fn staker(&mut self) -> Staker {
        let (keypair, token) = self.renter();
        Staker { keypair, token }
    }

    pub fn stake_tokens(&self, owner_token: Pubkey) -> StakeTokens {
        StakeTokens {
            calor_mint: self.protocol.calor_mint,
            owner_token,
            token_program: self.protocol.token_program.id(),
        }
    }

    pub fn pool(&self) -> StakePool {
        self.env.decode(&pda::stake_pool())
    }

    pub fn stake_of(&self, owner: &Pubkey) -> Stake {
        self.env.decode(&pda::stake(owner))
    }

    /// The epoch record an instruction on `owner`'s stake needs, read from chain state.
    pub fn record_for(&self, owner: &Pubkey) -> Option<u64> {
        self.env
            .account(&pda::stake(owner))
            .and_then(|_| epoch_record_needed(&self.stake_of(owner), &self.pool()))
    }

    /// `stake` for a new stake account, `add_stake` for an existing one.
    pub fn try_stake(&mut self, s: &Staker, amount: u64) -> Outcome {
        let tokens = self.stake_tokens(s.token);
        let ix = if self.env.account(&pda::stake(&s.key())).is_some() {
            ix::add_stake(s.key(), tokens, self.record_for(&s.key()), amount)
        } else {
            ix::stake(s.key(), tokens, amount)
        };
        self.env.send(&[ix], &s.keypair, &[])
    }

    pub fn try_unstake(&mut self, s: &Staker, amount: u64) -> Outcome {
        let ix = ix::unstake(
            s.key(),
            self.stake_tokens(s.token),
            self.record_for(&s.key()),
            amount,
        );
        self.env.send(&[ix], &s.keypair, &[])
    }

    pub fn try_claim_rewards(&mut self, s: &Staker) -> Outcome {
        let ix = ix::claim_rewards(
            s.key(),
            self.stake_tokens(s.token),
            self.record_for(&s.key()),
        );
        self.env.send(&[ix], &s.keypair, &[])
    }

    /// Warps to the end of the current epoch and advances it.
    pub fn advance_epoch(&mut self) -> Outcome {
        let pool = self.pool();
        let epoch_secs = i64::from(self.config().params.staking.epoch_secs);
        let end = pool.epoch_started_at + epoch_secs;
        if self.env.clock().unix_timestamp < end {
            self.env.warp_to_timestamp(end);
        }
        let payer = self.authority.insecure_clone();
        self.env.send(
            &[ix::advance_epoch(
                payer.pubkey(),
                pool.epoch,
                self.protocol.calor_mint,
                self.protocol.token_program.id(),
            )],
            &payer,
            &[],
        )
    }

    /// Puts `amount` Calor into the rewards vault as settled fees would.
    pub fn fund_rewards(&mut self, amount: u64) {
        let mint_authority = self.protocol.mint_authority.insecure_clone();
        spl::mint_to(
            &mut self.env,
            &mint_authority,
            &self.protocol.calor_mint,
            &pda::rewards_vault(),
            amount,
            self.protocol.token_program,
        );
    }

    pub fn config(&self) -> calor::state::Config {
        self.env.decode(&pda::config().0)
    }

    /// `propose` as the pool's next proposal; returns its id.
    pub fn try_propose(&mut self, s: &Staker, action: ProposalAction) -> (u64, Outcome) {
        let id = self.pool().proposal_count;
        let out = self
            .env
            .send(&[ix::propose(s.key(), id, action)], &s.keypair, &[]);
        (id, out)
    }

    pub fn try_vote(&mut self, s: &Staker, proposal: u64, approve: bool) -> Outcome {
        self.env
            .send(&[ix::vote(s.key(), proposal, approve)], &s.keypair, &[])
    }

    pub fn try_execute(&mut self, proposal: u64, provider: Option<Pubkey>) -> Outcome {
        let payer = self.authority.insecure_clone();
        self.env
            .send(&[ix::execute_proposal(proposal, provider)], &payer, &[])
    }

    /// Stakes `amount` and lets an epoch pass so that all of it is active (it earns rewards).
    pub fn active_staker(&mut self, amount: u64) -> Staker {
        let s = self.staker();
        self.try_stake(&s, amount).expect_ok("stake");
        self.advance_epoch().expect_ok("advance epoch");
        s
    }

    /// Stakes `amount` and lets two epochs pass so that all of it is seasoned (active for a
    /// whole epoch): it votes, proposes and gives routing priority.
    pub fn seasoned_staker(&mut self, amount: u64) -> Staker {
        let s = self.active_staker(amount);
        self.advance_epoch().expect_ok("advance epoch");
        s
    }

    /// `veto_proposal` by the config authority.
    pub fn try_veto(&mut self, proposal: u64) -> Outcome {
        let admin = self.authority.insecure_clone();
        self.env
            .send(&[ix::veto_proposal(admin.pubkey(), proposal)], &admin, &[])
    }
}
