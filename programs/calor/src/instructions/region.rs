use anchor_lang::prelude::*;

use crate::constants::{MAX_NAME_LEN, MAX_SHORT_LEN, REGION_SEED};
use crate::errors::CalorError;
use crate::events::RegionChanged;
use crate::instructions::gpu_model::valid_text;
use crate::pda_accounts::{init_account, load_mut, space_of, write_new};
use crate::state::{write_fixed_str, Config, Region};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RegionArgs {
    pub name: String,
    pub code: String,
    pub latitude_micro_deg: i32,
    pub longitude_micro_deg: i32,
    pub active: bool,
}

impl RegionArgs {
    fn validate(&self) -> Result<()> {
        require!(
            valid_text(&self.name, MAX_NAME_LEN),
            CalorError::InvalidName
        );
        require!(
            valid_text(&self.code, MAX_SHORT_LEN),
            CalorError::InvalidName
        );
        require!(
            (-90_000_000..=90_000_000).contains(&self.latitude_micro_deg)
                && (-180_000_000..=180_000_000).contains(&self.longitude_micro_deg),
            CalorError::InvalidLocation
        );
        Ok(())
    }

    fn apply(&self, region: &mut Region) {
        write_fixed_str(&mut region.name, &self.name);
        write_fixed_str(&mut region.code, &self.code);
        region.latitude_micro_deg = self.latitude_micro_deg;
        region.longitude_micro_deg = self.longitude_micro_deg;
        region.active = u8::from(self.active);
    }
}

/// The config authority adds region `id` (ids start at 1), or updates it (retiring it with
/// `active: false`).
///
/// Account proofs: `config` by owner and discriminator, its `authority` signs; `region` is
/// created at, or must be, `[REGION_SEED, id]`.
#[derive(Accounts)]
pub struct SetRegion<'info> {
    #[account(has_one = authority @ CalorError::NotConfigAuthority)]
    pub config: AccountLoader<'info, Config>,
    /// CHECK: created here at `[REGION_SEED, id]`, or that existing region (`load_mut`
    /// checks owner and discriminator, the handler its id).
    #[account(mut)]
    pub region: UncheckedAccount<'info>,
    #[account(mut)]
    pub authority: Signer<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<SetRegion>, id: u16, args: RegionArgs) -> Result<()> {
    require!(id > 0, CalorError::InvalidRegionId);
    args.validate()?;
    let a = ctx.accounts;
    if a.region.data_is_empty() {
        let bump = init_account(
            &a.authority,
            &a.region,
            &a.system_program,
            &[REGION_SEED, &id.to_le_bytes()],
            space_of::<Region>(),
        )?;
        let mut region = Region {
            id,
            bump,
            ..bytemuck::Zeroable::zeroed()
        };
        args.apply(&mut region);
        write_new(&a.region, &region)?;
        emit_changed(a.region.key(), &region);
        return Ok(());
    }
    let mut region = load_mut::<Region>(&a.region)?;
    require!(region.id == id, CalorError::WrongAddress);
    args.apply(&mut region);
    emit_changed(a.region.key(), &region);
    Ok(())
}

fn emit_changed(key: Pubkey, region: &Region) {
    emit!(RegionChanged {
        region: key,
        id: region.id,
        code: region.code().to_string(),
        active: region.is_active(),
    });
}
