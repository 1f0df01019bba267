//! Tokens moving into a program-controlled account, booked as what actually arrived.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{
    transfer_checked, Mint, TokenAccount, TokenInterface, TransferChecked,
};

use crate::errors::CalorError;

/// A `transfer_checked` from a user's token account (signed by `authority`) into `to`.
pub struct TokensIn<'a, 'info> {
    pub token_program: &'a Interface<'info, TokenInterface>,
    pub mint: &'a InterfaceAccount<'info, Mint>,
    pub from: &'a InterfaceAccount<'info, TokenAccount>,
    pub authority: &'a Signer<'info>,
    pub to: &'a mut InterfaceAccount<'info, TokenAccount>,
}

impl TokensIn<'_, '_> {
    /// Sends `amount` and returns what arrived: a Token-2022 transfer fee makes it less than
    /// what was sent, and an escrow or vault booked at the sent amount would owe more than it
    /// holds.
    pub fn transfer(self, amount: u64) -> Result<u64> {
        let before = self.to.amount;
        transfer_checked(
            CpiContext::new(
                self.token_program.key(),
                TransferChecked {
                    from: self.from.to_account_info(),
                    mint: self.mint.to_account_info(),
                    to: self.to.to_account_info(),
                    authority: self.authority.to_account_info(),
                },
            ),
            amount,
            self.mint.decimals,
        )?;
        self.to.reload()?;
        let received = self
            .to
            .amount
            .checked_sub(before)
            .ok_or(CalorError::MathOverflow)?;
        Ok(received)
    }
}
