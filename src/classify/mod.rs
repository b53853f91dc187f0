//! What a hit means for analytics: its kind (page, asset, other), method code, normalised path and
//! source, referrer, and the visitor it belongs to. Pure functions over a [`crate::parse::Hit`].

pub mod agent;
pub mod bots;
pub mod browser_age;
pub mod geo;
pub mod kind;
pub mod network;
pub mod path;
pub mod rate;
pub mod redact;
pub mod referrer;
pub mod rules;
pub mod spam;
pub mod visitor;

pub use kind::{Kind, Method, PageRules, PathClass};
pub use rules::Rules;

/// Facts about a hit decided at ingest, from what is not stored (the address, the protocol), for
/// the behaviour layer of bot detection: bits of `events.traits`.
pub mod traits {
    /// The address is in a datacenter network (`classify::network`).
    pub const DATACENTER: u8 = 1;
    /// The request was HTTP/1.0, which no current browser speaks.
    pub const HTTP10: u8 = 2;
    /// The request was HTTP/1.0 or 1.1 (not 2 or 3): browsers use HTTP/2 wherever a site offers it.
    pub const HTTP1: u8 = 4;
    /// The agent is an obsolete browser's (`ua-obsolete`), which rollup decides again from the
    /// client's day: kept here, since the hit's own verdict is rewritten with that decision.
    pub const OBSOLETE: u8 = 8;

    /// The bits of a hit: its address is in a datacenter, the protocol of its request line
    /// (`HTTP/1.0`...), and whether its agent is an obsolete browser's.
    pub fn of(datacenter: bool, protocol: Option<&[u8]>, obsolete: bool) -> u8 {
        let http10 = protocol == Some(b"HTTP/1.0");
        let http1 = http10 || protocol == Some(b"HTTP/1.1");
        u8::from(datacenter) * DATACENTER
            + u8::from(http10) * HTTP10
            + u8::from(http1) * HTTP1
            + u8::from(obsolete) * OBSOLETE
    }
}
pub use visitor::{DayClock, Salts};
