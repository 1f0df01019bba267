use anchor_lang::prelude::*;

/// Every rejection the program makes has its own name.
#[error_code]
pub enum CalorError {
    #[msg("the signer is not the program's upgrade authority")]
    NotUpgradeAuthority,
    #[msg("a basis-point value is above 10,000")]
    BpsOutOfRange,
    #[msg("protocol fee and burn together exceed 100% of the payment")]
    FeeAndBurnTooHigh,
    #[msg("the Calor subsidy is above the 85% cap")]
    SubsidyTooHigh,
    #[msg("the minimum rental value must be greater than zero")]
    ZeroMinimumRental,
    #[msg("the oracle feed id must not be all zeroes")]
    InvalidFeedId,
    #[msg("a duration setting is zero or longer than one week")]
    InvalidDuration,
    #[msg("the Calor price bounds are empty or inverted")]
    InvalidPriceBounds,
    #[msg("the treasury must not be the default (all-zero) address")]
    InvalidTreasury,
    #[msg("arithmetic overflow")]
    MathOverflow,
}
