//! Page requests that are no page view of their own, found with the client's whole day at hand
//! and retyped as `Other` before anything is counted (issue #24):
//!
//! - the same request logged twice: a proxy in front and the server behind it both log it (Plesk
//!   and many hosts put nginx before Apache), the same page for the same client within a second or
//!   two, once over HTTP/1.0 (the proxy's request to the backend) and once over the protocol the
//!   client spoke. The first line is kept.
//! - a page's own embedded request: a page asked for by the same client within [`EMBEDDED_MS`] of
//!   a page, naming the site itself as its referrer (the site's host, or the host the client's own
//!   subresources name, where one log holds several sites): a page reloading itself, a frame, a
//!   script's fetch of an HTML or PHP endpoint, a script served without an extension. Nobody follows a link that fast; a browser loading what a
//!   page embeds does. (Measured on the labelled logs: with the check "unless the fast page loads
//!   subresources of its own", more AJAX endpoints that also render stayed counted than quick
//!   clicks were saved, 24hteacher +112 and hiroshima +90 against cphstud -4.)

use foldhash::{HashMap, HashMapExt};

use super::aggregate::Event;
use crate::classify::referrer::INTERNAL;
use crate::classify::{traits, Kind};
use foldhash::HashSet;

/// Two log lines of one request are this close.
const LOGGED_TWICE_MS: i64 = 2_000;
/// A page requested this soon after another by the same client, from the site itself, is what
/// the first page embeds.
pub const EMBEDDED_MS: i64 = 2_000;

/// Retypes the page events of `events` that are echoes of another (both kinds above) as `Other`.
pub fn mark(events: &mut [Event<'_>]) {
    let mut order: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].kind == Kind::Page as u8)
        .collect();
    // Stable: lines of one second keep their order in the log.
    order.sort_by_key(|&i| events[i].ts);
    // Per (site, visitor): the time of its last page view, and per page key that page's last
    // time and whether it came over HTTP/1.0.
    let mut last_page: HashMap<(&str, i64), i64> = HashMap::new();
    // The hosts each client's subresources name as their referrer: its pages' own host.
    let mut own_hosts: HashSet<(&str, i64, &str)> = HashSet::default();
    for e in events.iter().filter(|e| e.kind == Kind::Asset as u8) {
        if let Some(h) = e.referrer_host {
            own_hosts.insert((e.site, e.visitor, h));
        }
    }
    let mut last_of: HashMap<(&str, i64, i64), (i64, bool)> = HashMap::new();
    for i in order {
        let e = &events[i];
        let client = (e.site, e.visitor);
        let http10 = e.traits & traits::HTTP10 != 0;
        let twice = last_of
            .get(&(e.site, e.visitor, e.page_key))
            .is_some_and(|(t, was10)| e.ts - t <= LOGGED_TWICE_MS && *was10 != http10);
        let from_itself = e.source == Some(INTERNAL)
            || e.referrer_host
                .is_some_and(|h| own_hosts.contains(&(e.site, e.visitor, h)));
        let embedded = from_itself
            && last_page
                .get(&client)
                .is_some_and(|t| e.ts - t <= EMBEDDED_MS);
        if twice || embedded {
            events[i].kind = Kind::Other as u8;
            continue;
        }
        last_page.insert(client, e.ts);
        last_of.insert((e.site, e.visitor, e.page_key), (e.ts, http10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::aggregate::tests::ev;

    fn page(ts: i64, path: &'static str, http10: bool, internal: bool) -> Event<'static> {
        let mut e = ev(0, 1, path);
        e.ts = ts;
        e.page_key = crate::classify::referrer::page_key(path);
        e.traits = if http10 {
            traits::HTTP10 | traits::HTTP1
        } else {
            0
        };
        e.source = internal.then_some(INTERNAL);
        e
    }

    fn kinds(events: &[Event<'_>]) -> Vec<bool> {
        events.iter().map(|e| e.kind == Kind::Page as u8).collect()
    }

    #[test]
    fn a_request_logged_by_the_proxy_and_its_backend_is_one_page_view() {
        let mut events = vec![
            page(1_000, "/", true, false),
            page(1_400, "/", false, false),
            // A reload a minute later is another view, and so is one over the same protocol.
            page(61_000, "/", false, false),
            page(61_500, "/", false, false),
        ];
        mark(&mut events);
        assert_eq!(kinds(&events), [true, false, true, true]);
    }

    #[test]
    fn what_a_page_embeds_is_not_a_page_view_but_a_link_followed_is() {
        let mut events = vec![
            page(1_000, "/", false, false),
            page(1_300, "/frame", false, true),
            page(40_000, "/next", false, true),
            // A page from elsewhere, fast, is a view of its own.
            page(40_500, "/from-search", false, false),
            // The page reloading itself at once.
            page(41_000, "/from-search", false, true),
        ];
        mark(&mut events);
        assert_eq!(kinds(&events), [true, false, true, true, false]);
    }
}
