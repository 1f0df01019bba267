use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::events::CalorPricePosted;
use crate::math;
use crate::state::Config;

/// The authority posts the Calor/USD rate (micro-USD per whole token). Rentals only use it
/// while it is younger than `calor_price.max_age_secs`; it must stay within the governed
/// bounds and move at most `max_move_bps_per_hour` per hour since the last post, so neither
/// a stale, a fat-fingered nor a sudden rate can be used (and each renter also caps what it
/// pays with `max_payment`).
#[derive(Accounts)]
pub struct PostCalorPrice<'info> {
    #[account(mut, has_one = authority @ CalorError::NotConfigAuthority)]
    pub config: AccountLoader<'info, Config>,
    pub authority: Signer<'info>,
}

pub fn handler(ctx: Context<PostCalorPrice>, price_micro_usd: u64) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let mut config = ctx.accounts.config.load_mut()?;
    let bounds = config.params.calor_price;
    require!(
        (bounds.min_micro_usd..=bounds.max_micro_usd).contains(&price_micro_usd),
        CalorError::CalorPriceOutOfBounds
    );
    require!(
        math::price_move_allowed(
            config.calor_price_micro_usd,
            price_micro_usd,
            now.saturating_sub(config.calor_price_posted_at),
            bounds.max_move_bps_per_hour,
        ),
        CalorError::CalorPriceMoveTooLarge
    );
    config.calor_price_micro_usd = price_micro_usd;
    config.calor_price_posted_at = now;
    emit!(CalorPricePosted {
        price_micro_usd,
        posted_at: now
    });
    Ok(())
}
