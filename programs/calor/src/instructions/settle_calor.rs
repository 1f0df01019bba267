use anchor_lang::prelude::*;
use anchor_spl::token_interface::{
    burn, close_account, transfer_checked, Burn, CloseAccount, Mint, TokenAccount, TokenInterface,
    TransferChecked,
};

use crate::constants::{CONFIG_SEED, ESCROW_SEED, RENTAL_SEED, STAKE_POOL_SEED};
use crate::errors::CalorError;
use crate::events::RentalSettled;
use crate::math;
use crate::state::{Config, PaymentKind, Rental, StakePool};

/// Pays out an ended Calor rental, exactly once: the provider's payout wallet receives its
/// share, the protocol fee is split between the stakers' rewards vault
/// (`staker_fee_share_bps`) and the treasury, `burn_bps` of the spent tokens are burned, the renter gets
/// the unused remainder; the escrow and the rental are closed and their rent returned to
/// the renter. Anyone may send it (a missing recipient token account can be created by anyone).
#[derive(Accounts)]
pub struct SettleCalor<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, close = renter,
              seeds = [RENTAL_SEED, rental.renter.as_ref(), &rental.id.to_le_bytes()],
              bump = rental.bump,
              constraint = rental.payment == PaymentKind::Calor @ CalorError::WrongPaymentKind)]
    pub rental: Box<Account<'info, Rental>>,
    #[account(mut, seeds = [ESCROW_SEED, rental.key().as_ref()], bump = rental.escrow_bump)]
    pub escrow: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = config.calor_mint @ CalorError::WrongMint)]
    pub calor_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, token::mint = calor_mint, token::authority = rental.renter,
              token::token_program = token_program)]
    pub renter_token: Box<InterfaceAccount<'info, TokenAccount>>,
    /// A token account of the provider's payout wallet; `None` for rentals never claimed.
    #[account(mut, token::mint = calor_mint, token::authority = rental.payee,
              token::token_program = token_program)]
    pub provider_token: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    #[account(mut, token::mint = calor_mint, token::authority = config.treasury,
              token::token_program = token_program)]
    pub treasury_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(seeds = [STAKE_POOL_SEED], bump = stake_pool.bump)]
    pub stake_pool: Box<Account<'info, StakePool>>,
    /// Rewards are counted from its balance at each epoch's end (`advance_epoch`).
    #[account(mut, address = stake_pool.rewards_vault)]
    pub rewards_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// CHECK: only receives the closed accounts' lamports; verified by `address`.
    #[account(mut, address = rental.renter @ CalorError::Unauthorized)]
    pub renter: UncheckedAccount<'info>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl<'info> SettleCalor<'info> {
    /// Sends `amount` out of the escrow, signed by the rental PDA.
    fn pay_out(&self, to: AccountInfo<'info>, amount: u64, signer: &[&[&[u8]]]) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        transfer_checked(
            CpiContext::new_with_signer(
                self.token_program.key(),
                TransferChecked {
                    from: self.escrow.to_account_info(),
                    mint: self.calor_mint.to_account_info(),
                    to,
                    authority: self.rental.to_account_info(),
                },
                signer,
            ),
            amount,
            self.calor_mint.decimals,
        )
    }
}

pub fn handler(ctx: Context<SettleCalor>) -> Result<()> {
    let a = &ctx.accounts;
    require!(a.rental.is_ended(), CalorError::SettleBeforeEnd);
    let split = math::settle(
        a.rental.escrowed,
        u64::from(a.rental.served_secs),
        a.rental.paid_secs(),
        a.rental.protocol_fee_bps,
        a.rental.burn_bps,
    )?;
    // Anyone can send tokens to the escrow; whatever is there beyond what the renter paid
    // goes back to the renter, so the account always closes and settlement cannot be blocked.
    let surplus = a.escrow.amount.saturating_sub(a.rental.escrowed);
    let refund = split
        .refund
        .checked_add(surplus)
        .ok_or(CalorError::MathOverflow)?;

    let renter_key = a.rental.renter;
    let id = a.rental.id.to_le_bytes();
    let seeds: &[&[u8]] = &[RENTAL_SEED, renter_key.as_ref(), &id, &[a.rental.bump]];
    let signer = &[seeds];
    let program = a.token_program.key();
    if split.provider > 0 {
        let to = a.provider_token.as_ref().ok_or(CalorError::WrongPayee)?;
        a.pay_out(to.to_account_info(), split.provider, signer)?;
    }
    let staker_rewards = math::bps_of(split.fee, a.config.params.staking.staker_fee_share_bps)?;
    a.pay_out(a.rewards_vault.to_account_info(), staker_rewards, signer)?;
    a.pay_out(
        a.treasury_token.to_account_info(),
        split.fee - staker_rewards,
        signer,
    )?;
    a.pay_out(a.renter_token.to_account_info(), refund, signer)?;
    if split.burn > 0 {
        burn(
            CpiContext::new_with_signer(
                program,
                Burn {
                    mint: a.calor_mint.to_account_info(),
                    from: a.escrow.to_account_info(),
                    authority: a.rental.to_account_info(),
                },
                signer,
            ),
            split.burn,
        )?;
    }
    close_account(CpiContext::new_with_signer(
        program,
        CloseAccount {
            account: a.escrow.to_account_info(),
            destination: a.renter.to_account_info(),
            authority: a.rental.to_account_info(),
        },
        signer,
    ))?;
    emit!(RentalSettled {
        rental: a.rental.key(),
        payment: PaymentKind::Calor,
        provider_amount: split.provider,
        fee: split.fee,
        staker_rewards,
        burned: split.burn,
        refund,
    });
    Ok(())
}
