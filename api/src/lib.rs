//! calor-api: the renter's HTTP door. This first part is the wallet sign-in (Sign-In With
//! Solana, `calor_client::siws`), sessions and the store they live in (SQLite or PostgreSQL);
//! the chain index and the job endpoints build on it.
pub mod auth;
pub mod config;
pub mod http;
pub mod limits;
pub mod store;
