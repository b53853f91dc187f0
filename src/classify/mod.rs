//! What a hit means for analytics: its kind (page, asset, other), method code, normalised path and
//! source, referrer, and the visitor it belongs to. Pure functions over a [`crate::parse::Hit`].

pub mod agent;
pub mod bots;
pub mod geo;
pub mod kind;
pub mod path;
pub mod redact;
pub mod referrer;
pub mod visitor;

pub use kind::{Kind, Method};
pub use visitor::{DayClock, Salts};
