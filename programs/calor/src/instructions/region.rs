use anchor_lang::prelude::*;

use crate::constants::{CONFIG_SEED, MAX_NAME_LEN, MAX_SHORT_LEN, REGION_SEED};
use crate::errors::CalorError;
use crate::events::RegionChanged;
use crate::instructions::gpu_model::valid_text;
use crate::state::{Config, Region};

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
        Ok(())
    }

    fn apply(self, region: &mut Region) {
        region.name = self.name;
        region.code = self.code;
        region.latitude_micro_deg = self.latitude_micro_deg;
        region.longitude_micro_deg = self.longitude_micro_deg;
        region.active = self.active;
    }
}

#[derive(Accounts)]
#[instruction(id: u16)]
pub struct AddRegion<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump,
              has_one = authority @ CalorError::NotConfigAuthority)]
    pub config: Box<Account<'info, Config>>,
    #[account(init, payer = authority, space = 8 + Region::INIT_SPACE,
              seeds = [REGION_SEED, &id.to_le_bytes()], bump)]
    pub region: Account<'info, Region>,
    #[account(mut)]
    pub authority: Signer<'info>,
    pub system_program: Program<'info, System>,
}

pub fn add_handler(ctx: Context<AddRegion>, id: u16, args: RegionArgs) -> Result<()> {
    args.validate()?;
    let region = &mut ctx.accounts.region;
    region.id = id;
    region.bump = ctx.bumps.region;
    args.apply(region);
    emit_changed(region);
    Ok(())
}

#[derive(Accounts)]
pub struct UpdateRegion<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump,
              has_one = authority @ CalorError::NotConfigAuthority)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [REGION_SEED, &region.id.to_le_bytes()], bump = region.bump)]
    pub region: Account<'info, Region>,
    pub authority: Signer<'info>,
}

pub fn update_handler(ctx: Context<UpdateRegion>, args: RegionArgs) -> Result<()> {
    args.validate()?;
    let region = &mut ctx.accounts.region;
    args.apply(region);
    emit_changed(region);
    Ok(())
}

fn emit_changed(region: &Account<Region>) {
    emit!(RegionChanged {
        region: region.key(),
        id: region.id,
        code: region.code.clone(),
        active: region.active,
    });
}
