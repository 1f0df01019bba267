//! A rental's web terminal and Jupyter for the development tools (`calor-dev terminal`,
//! `calor-dev jupyter`) and the provisioner's tests: the SDK's client
//! (`calor_client::sdk::terminal`), which the `calor` CLI uses too.
pub use calor_client::sdk::terminal::{jupyter, sign_access, signed_access, terminal, Closed};
