use anchor_lang::prelude::*;

use crate::constants::CONFIG_SEED;
use crate::errors::CalorError;
use crate::events::CalorPricePosted;
use crate::state::Config;

/// The authority posts the Calor/USD rate (micro-USD per whole token). Rentals only use it
/// while it is younger than `calor_price.max_age_secs`, and it must stay within the
/// configured bounds, so a stale or fat-fingered rate cannot be used.
#[derive(Accounts)]
pub struct PostCalorPrice<'info> {
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump,
              has_one = authority @ CalorError::NotConfigAuthority)]
    pub config: Box<Account<'info, Config>>,
    pub authority: Signer<'info>,
}

impl PostCalorPrice<'_> {
    pub fn validate(&self, price_micro_usd: u64) -> Result<()> {
        let bounds = &self.config.params.calor_price;
        require!(
            (bounds.min_micro_usd..=bounds.max_micro_usd).contains(&price_micro_usd),
            CalorError::CalorPriceOutOfBounds
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<PostCalorPrice>, price_micro_usd: u64) -> Result<()> {
    ctx.accounts.validate(price_micro_usd)?;
    let now = Clock::get()?.unix_timestamp;
    let config = &mut ctx.accounts.config;
    config.calor_price_micro_usd = price_micro_usd;
    config.calor_price_posted_at = now;
    emit!(CalorPricePosted {
        price_micro_usd,
        posted_at: now
    });
    Ok(())
}
