//! A stake as it stands now: read with the pool and brought up to date the way the program's
//! next instruction on it would (`Stake::sync`), so figures shown between transactions are
//! the ones the next claim pays. The API's stake endpoint and the SDK read it the same way.
use anchor_lang::prelude::Pubkey;
use calor::state::{EpochRecord, Stake, StakePool};

use crate::accounts::epoch_record_needed;
use crate::pda;
use crate::rpc::{Chain, ChainError};

/// The pool, and `owner`'s stake synced to it (`None` before the first deposit).
#[derive(Debug, Clone)]
pub struct StakeNow {
    pub pool: StakePool,
    pub stake: Option<Stake>,
    /// The epoch whose record the owner's next instruction must pass, if any.
    pub epoch_record: Option<u64>,
}

/// Reads `owner`'s stake and the pool now; `None` when staking is not set up.
pub async fn stake_now(chain: &Chain, owner: &Pubkey) -> Result<Option<StakeNow>, ChainError> {
    let Some(pool) = chain.account::<StakePool>(&pda::stake_pool()).await? else {
        return Ok(None);
    };
    let mut stake = chain.account::<Stake>(&pda::stake(owner)).await?;
    let mut needed = None;
    if let Some(s) = stake.as_mut() {
        // tokens pending in an ended epoch earn from that epoch's end, and what was earned
        // since the last touch is counted, so the figures do not wait for the owner to act
        needed = epoch_record_needed(s, &pool);
        let record = match needed {
            Some(epoch) => {
                chain
                    .account::<EpochRecord>(&pda::epoch_record(epoch))
                    .await?
            }
            None => None,
        };
        if s.sync(&pool, record.as_ref()).is_err() {
            // only without the epoch's record (it fails before changing anything): count
            // what the active tokens earned
            let earned = calor::math::rewards_earned(
                s.active,
                s.reward_checkpoint,
                pool.acc_reward_per_share,
            )
            .unwrap_or(0);
            s.unclaimed = s.unclaimed.saturating_add(earned);
        }
    }
    Ok(Some(StakeNow {
        pool,
        stake,
        epoch_record: needed,
    }))
}
