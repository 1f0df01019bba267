pub mod config;
pub mod gpu_model;
pub mod node;
pub mod provider;
pub mod region;
pub mod rental;

pub use config::*;
pub use gpu_model::*;
pub use node::*;
pub use provider::*;
pub use region::*;
pub use rental::*;
