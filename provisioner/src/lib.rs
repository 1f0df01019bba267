//! The Calor provisioner: operators run one per GPU cluster. It watches the program's rentals
//! and nodes, claims work for its region, runs each rental as a container through the Docker
//! Engine API, and records every transition on-chain. See docs/provisioner.md.
pub mod config;
pub mod controller;
pub mod engine;
pub mod fence;
pub mod gpu;
pub mod http;
pub mod metrics;
pub mod runtime;
pub mod schedule;
pub mod terminal;
pub mod watch;
pub mod workspace;
