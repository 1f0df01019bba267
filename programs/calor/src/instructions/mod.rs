// Anchor's #[program] needs every Accounts struct (and its generated client module) at
// `crate::instructions::*`; the handlers share names and are always called by full path.
#![allow(ambiguous_glob_reexports)]

pub mod approve_provider;
pub mod cancel;
pub mod claim;
pub mod complete;
pub mod expire;
pub mod extend_calor;
pub mod extend_sol;
pub mod fail;
pub mod gpu_model;
pub mod initialize;
pub mod list_node;
pub mod open_rental_calor;
pub mod open_rental_sol;
pub mod post_calor_price;
pub mod provider_rental;
pub mod reclaim;
pub mod region;
pub mod register_provider;
pub mod rental_rules;
pub mod settle_calor;
pub mod settle_sol;
pub mod start;
pub mod transfer_authority;
pub mod update_config;
pub mod update_node;
pub mod withdraw;

pub use approve_provider::*;
pub use cancel::*;
pub use complete::*;
pub use expire::*;
pub use extend_calor::*;
pub use extend_sol::*;
pub use gpu_model::*;
pub use initialize::*;
pub use list_node::*;
pub use open_rental_calor::*;
pub use open_rental_sol::*;
pub use post_calor_price::*;
pub use provider_rental::*;
pub use reclaim::*;
pub use region::*;
pub use register_provider::*;
pub use rental_rules::*;
pub use settle_calor::*;
pub use settle_sol::*;
pub use transfer_authority::*;
pub use update_config::*;
pub use update_node::*;
pub use withdraw::*;
