//! calor-api: the renter's HTTP door. Wallet sign-in (Sign-In With Solana,
//! `calor_client::siws`) and sessions; an index of the chain's rental events in a store
//! (SQLite or PostgreSQL); jobs quoted and built as unsigned transactions only the renter's
//! wallet signs; the live market; an OpenAPI description of all of it.
pub mod auth;
pub mod config;
pub mod handlers;
pub mod http;
pub mod index;
pub mod jobs;
pub mod limits;
pub mod market;
pub mod network;
pub mod openapi;
pub mod serve;
pub mod store;
