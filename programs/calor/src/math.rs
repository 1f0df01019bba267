//! Pure, checked arithmetic. No account access here, so all of it is unit-tested on the host.
use crate::constants::BPS_DENOMINATOR;

/// Errors of the pure math layer; instruction handlers map them to [`crate::errors::CalorError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MathError {
    Overflow,
    DivideByZero,
}

pub type MathResult<T> = core::result::Result<T, MathError>;

impl From<MathError> for anchor_lang::error::Error {
    fn from(_: MathError) -> Self {
        crate::errors::CalorError::MathOverflow.into()
    }
}

/// `amount * bps / 10_000`, rounded down: a fee or burn share never exceeds its exact value.
pub fn bps_of(amount: u64, bps: u16) -> MathResult<u64> {
    mul_div_floor(amount, u64::from(bps), u64::from(BPS_DENOMINATOR))
}

/// `a * b / d` in u128, rounded down.
pub fn mul_div_floor(a: u64, b: u64, d: u64) -> MathResult<u64> {
    if d == 0 {
        return Err(MathError::DivideByZero);
    }
    let q = u128::from(a)
        .checked_mul(u128::from(b))
        .ok_or(MathError::Overflow)?
        / u128::from(d);
    u64::try_from(q).map_err(|_| MathError::Overflow)
}

/// `a * b / d` in u128, rounded up.
pub fn mul_div_ceil(a: u64, b: u64, d: u64) -> MathResult<u64> {
    if d == 0 {
        return Err(MathError::DivideByZero);
    }
    let n = u128::from(a)
        .checked_mul(u128::from(b))
        .ok_or(MathError::Overflow)?;
    let q = n.div_ceil(u128::from(d));
    u64::try_from(q).map_err(|_| MathError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bps_rounds_down() {
        assert_eq!(bps_of(1_000, 250), Ok(25));
        assert_eq!(bps_of(999, 1), Ok(0));
        assert_eq!(bps_of(u64::MAX, 10_000), Ok(u64::MAX));
    }

    #[test]
    fn mul_div_rounding_directions() {
        assert_eq!(mul_div_floor(10, 1, 3), Ok(3));
        assert_eq!(mul_div_ceil(10, 1, 3), Ok(4));
        assert_eq!(mul_div_ceil(9, 1, 3), Ok(3));
        assert_eq!(mul_div_floor(1, 1, 0), Err(MathError::DivideByZero));
        assert_eq!(mul_div_floor(u64::MAX, 2, 1), Err(MathError::Overflow));
        // u128 intermediates: the product may exceed u64 as long as the quotient fits
        assert_eq!(mul_div_floor(u64::MAX, u64::MAX, u64::MAX), Ok(u64::MAX));
    }
}
