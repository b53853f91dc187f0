//! The day-level verdicts of one day of events, in one place for `rollup` and `check --bots`:
//! what ingest decided per request stands, what a whole day tells is decided again.

use foldhash::HashMap;

use super::aggregate::Event;
use super::behaviour::{self, SiteProfile, Thresholds};
use super::{echoes, internal};
use crate::classify::bots::{self, Reason};

/// Decides the day of `events` in place, with each site's profile: the verdicts of an earlier
/// rollup of behaviour are cleared and decided again with the whole day, and so is an obsolete
/// browser (a person's, if it loads what its pages need); then the site's own referrers are
/// known (`internal`), requests that are no page view of their own are retyped (`echoes`), and
/// the behaviour rules run (`behaviour`).
pub fn decide(events: &mut [Event<'_>], t: &Thresholds, profiles: &HashMap<&str, SiteProfile>) {
    for e in events.iter_mut() {
        if bots::is_behaviour(e.bot) || e.bot == Reason::ObsoleteBrowser as u8 {
            e.bot = 0;
        }
    }
    internal::mark(events, profiles);
    echoes::mark(events);
    behaviour::flag(events, t, profiles);
}
