//! What a renter's own transactions contain: how a rental is stopped and settled, and how a
//! held refund is claimed. One plan for every caller that builds them (the API's unsigned
//! transactions, the SDK and the CLI), so each stops a rental the same way.
use anchor_lang::prelude::Pubkey;
use calor::state::{PaymentKind, Rental, RentalState};

use crate::instructions::{self as ix, CalorPayouts, SettleParties};
use crate::{pda, Instruction};

/// What stopping does first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopAction {
    /// Queued or provisioning: `cancel`.
    Cancel,
    /// Running: `complete`.
    Complete,
    /// Already ended: only the settlement.
    Settle,
}

impl StopAction {
    pub fn as_str(self) -> &'static str {
        match self {
            StopAction::Cancel => "cancel",
            StopAction::Complete => "complete",
            StopAction::Settle => "settle",
        }
    }
}

/// The instructions that stop a rental, and whether they settle it too.
#[derive(Debug, Clone)]
pub struct StopPlan {
    pub action: StopAction,
    pub instructions: Vec<Instruction>,
    /// False when the provider must settle (a Calor payout account that does not exist yet).
    pub settles: bool,
}

/// Why a rental cannot be stopped by its renter now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopRefused {
    /// Settled already, its refund held: claim it (`claim_refund_instructions`).
    RefundHeld,
    /// Ended, and only its provider can settle it (its Calor payout account is missing).
    ProviderSettles,
    /// A running rental always has a node; the account says otherwise.
    RunningWithoutNode,
}

impl std::fmt::Display for StopRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopRefused::RefundHeld => "settled with its refund held: claim the refund",
            StopRefused::ProviderSettles => "ended: its provider settles it",
            StopRefused::RunningWithoutNode => "running without a node",
        })
    }
}

impl std::error::Error for StopRefused {}

/// What a wallet lacks for a purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shortfall {
    /// The unit that is short: lamports for `Sol`, Calor base units for `Calor`.
    pub unit: PaymentKind,
    pub need: u64,
    pub have: u64,
}

/// The first shortfall of a wallet holding `lamports` and `calor` base units for a purchase of
/// at most `max_payment` paid with `payment`, when it must also hold `lamports_beside` (rent
/// deposits, the fee): the Calor payment first, then the SOL. `None` when it can pay.
pub fn shortfall(
    payment: PaymentKind,
    max_payment: u64,
    lamports_beside: u64,
    lamports: u64,
    calor: u64,
) -> Option<Shortfall> {
    let lamports_needed = match payment {
        PaymentKind::Sol => max_payment.saturating_add(lamports_beside),
        PaymentKind::Calor if calor < max_payment => {
            return Some(Shortfall {
                unit: PaymentKind::Calor,
                need: max_payment,
                have: calor,
            })
        }
        PaymentKind::Calor => lamports_beside,
    };
    (lamports < lamports_needed).then_some(Shortfall {
        unit: PaymentKind::Sol,
        need: lamports_needed,
        have: lamports,
    })
}

/// Where a Calor rental's settlement pays.
#[derive(Debug, Clone, Copy)]
pub struct CalorSettlement {
    pub mint: Pubkey,
    /// The mint's owner: SPL Token or Token-2022.
    pub token_program: Pubkey,
    /// Whether the payee's associated account of the mint exists (settlement pays into it).
    pub provider_account_exists: bool,
}

/// The stop of `rental` at `address` signed by its renter: `cancel` or `complete`, then
/// `settle_sol` / `settle_calor` when every account it pays exists. `calor` is needed for a
/// Calor rental (the refund goes to the renter's associated account; one that cannot receive
/// makes the program hold it).
pub fn stop_plan(
    address: Pubkey,
    rental: &Rental,
    calor: Option<CalorSettlement>,
) -> Result<StopPlan, StopRefused> {
    let renter = rental.renter;
    let node = rental.node();
    let (action, stop) = match rental.state() {
        RentalState::Queued => (StopAction::Cancel, Some(ix::cancel(renter, address, None))),
        RentalState::Provisioning => (StopAction::Cancel, Some(ix::cancel(renter, address, node))),
        RentalState::Running => (
            StopAction::Complete,
            Some(ix::complete(
                renter,
                address,
                node.ok_or(StopRefused::RunningWithoutNode)?,
            )),
        ),
        RentalState::Completed | RentalState::Failed | RentalState::Cancelled => {
            (StopAction::Settle, None)
        }
        RentalState::RefundHeld => return Err(StopRefused::RefundHeld),
    };
    let mut instructions: Vec<Instruction> = stop.into_iter().collect();
    let parties = SettleParties::of(rental);
    let settle = match (rental.payment(), calor) {
        (PaymentKind::Sol, _) => Some(ix::settle_sol(address, parties)),
        (PaymentKind::Calor, Some(c)) if parties.payee.is_none() || c.provider_account_exists => {
            Some(ix::settle_calor(
                address,
                parties,
                c.mint,
                c.token_program,
                CalorPayouts {
                    renter_token: pda::associated_token(&renter, &c.mint, &c.token_program),
                    provider_token: parties
                        .payee
                        .map(|payee| pda::associated_token(&payee, &c.mint, &c.token_program)),
                },
            ))
        }
        (PaymentKind::Calor, _) => None,
    };
    let settles = settle.is_some();
    instructions.extend(settle);
    if instructions.is_empty() {
        return Err(StopRefused::ProviderSettles);
    }
    Ok(StopPlan {
        action,
        instructions,
        settles,
    })
}

/// A held refund paid into the renter's associated account of the mint, created first if it
/// is missing (its rent paid by the renter).
pub fn claim_refund_instructions(
    address: Pubkey,
    rental: &Rental,
    mint: Pubkey,
    token_program: Pubkey,
) -> Vec<Instruction> {
    let renter = rental.renter;
    vec![
        ix::create_associated_token(renter, renter, mint, token_program),
        ix::claim_refund(
            address,
            renter,
            mint,
            pda::associated_token(&renter, &mint, &token_program),
            token_program,
        ),
    ]
}

/// Looks up where a Calor settlement pays (the mint's token program, whether the payee's
/// account exists); `None` for a SOL rental.
#[cfg(feature = "rpc")]
pub async fn calor_settlement(
    chain: &crate::rpc::Chain,
    rental: &Rental,
    mint: Pubkey,
) -> Result<Option<CalorSettlement>, crate::rpc::ChainError> {
    if rental.payment() != PaymentKind::Calor {
        return Ok(None);
    }
    let token_program = chain.owner(&mint).await?;
    let payee = (rental.payee != Pubkey::default()).then_some(rental.payee);
    let provider_account_exists = match payee {
        Some(payee) => {
            chain
                .balance(&pda::associated_token(&payee, &mint, &token_program))
                .await?
                > 0
        }
        None => false,
    };
    Ok(Some(CalorSettlement {
        mint,
        token_program,
        provider_account_exists,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calor_payment_is_short_before_the_sol_beside_it() {
        use PaymentKind::{Calor, Sol};
        let short = |unit, need, have| Some(Shortfall { unit, need, have });
        assert_eq!(shortfall(Sol, 100, 10, 110, 0), None);
        assert_eq!(shortfall(Sol, 100, 10, 109, 0), short(Sol, 110, 109));
        assert_eq!(shortfall(Calor, 100, 10, 10, 100), None);
        assert_eq!(shortfall(Calor, 100, 10, 0, 99), short(Calor, 100, 99));
        assert_eq!(shortfall(Calor, 100, 10, 9, 100), short(Sol, 10, 9));
        assert_eq!(shortfall(Sol, u64::MAX, 1, u64::MAX, 0), None);
    }
}
