//! Who is on the site now: the in-memory map kept by `tail` ([`state`]), served on a Unix socket
//! and optionally over loopback HTTP ([`socket`]), and read by `logtally live`.

pub mod socket;
pub mod state;
pub mod view;
