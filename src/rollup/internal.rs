//! Which referrers are the site itself, when neither a host field nor `--site` names it: the host
//! that most subresource requests name as their referrer (a browser sends the page's address with
//! every stylesheet, script and image it loads) is the site's own, and so is a referrer that is an
//! IP address (the server's own, when people browse it by address). Visits referred by them are
//! `Direct`, never an outside source.

use foldhash::{HashMap, HashMapExt};

use super::aggregate::Event;
use crate::classify::referrer::{INTERNAL, IP_HOST};
use crate::classify::Kind;

/// Subresource requests naming one host that make it the site's own.
const MIN_REFERRED_ASSETS: u32 = 3;

/// The share of referred subresource requests the top host must have.
const MIN_SHARE: f64 = 0.5;

/// Per site: the host most subresource requests name as referrer, if it names enough of them.
fn own_hosts<'n>(events: &[Event<'n>]) -> HashMap<&'n str, &'n str> {
    let mut counts: HashMap<(&str, &str), u32> = HashMap::new();
    let mut totals: HashMap<&str, u32> = HashMap::new();
    for e in events {
        if e.kind != Kind::Asset as u8 {
            continue;
        }
        if let Some(host) = e.referrer_host.filter(|h| *h != IP_HOST) {
            *counts.entry((e.site, host)).or_default() += 1;
            *totals.entry(e.site).or_default() += 1;
        }
    }
    let mut best: HashMap<&str, (&str, u32)> = HashMap::new();
    for ((site, host), n) in counts {
        let b = best.entry(site).or_insert((host, 0));
        if n > b.1 || (n == b.1 && host < b.0) {
            *b = (host, n);
        }
    }
    best.into_iter()
        .filter(|(site, (_, n))| {
            *n >= MIN_REFERRED_ASSETS && f64::from(*n) >= MIN_SHARE * f64::from(totals[site])
        })
        .map(|(site, (host, _))| (site, host))
        .collect()
}

/// Marks as `Internal` the source of every event referred by its site's own host or by an IP
/// address (campaign sources named in the query are kept).
pub fn mark(events: &mut [Event<'_>]) {
    let own = own_hosts(events);
    for e in events.iter_mut() {
        let Some(host) = e.referrer_host else {
            continue;
        };
        if e.campaign {
            continue;
        }
        if host == IP_HOST || own.get(e.site) == Some(&host) {
            e.source = Some(INTERNAL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::aggregate::tests::ev;

    #[test]
    fn the_host_subresources_name_is_the_sites_own() {
        let mut events = Vec::new();
        for i in 0..4 {
            let mut a = ev(i, 1, "/style.css");
            a.kind = Kind::Asset as u8;
            a.referrer_host = Some("blog.example");
            events.push(a);
        }
        let mut page = ev(10, 2, "/post");
        page.referrer_host = Some("blog.example");
        page.source = Some("blog.example");
        let mut outside = ev(11, 3, "/post");
        outside.referrer_host = Some("news.ycombinator.com");
        outside.source = Some("Hacker News");
        let mut by_ip = ev(12, 4, "/");
        by_ip.referrer_host = Some(IP_HOST);
        by_ip.source = Some(IP_HOST);
        let mut campaign = ev(13, 5, "/");
        campaign.referrer_host = Some("blog.example");
        campaign.source = Some("newsletter");
        campaign.campaign = true;
        events.extend([page, outside, by_ip, campaign]);
        mark(&mut events);
        let sources: Vec<_> = events[4..].iter().map(|e| e.source).collect();
        assert_eq!(
            sources,
            vec![
                Some(INTERNAL),
                Some("Hacker News"),
                Some(INTERNAL),
                Some("newsletter")
            ]
        );
    }

    #[test]
    fn too_few_subresources_decide_nothing() {
        let mut events = Vec::new();
        for i in 0..2 {
            let mut a = ev(i, 1, "/style.css");
            a.kind = Kind::Asset as u8;
            a.referrer_host = Some("blog.example");
            events.push(a);
        }
        let mut page = ev(10, 2, "/post");
        page.referrer_host = Some("blog.example");
        page.source = Some("blog.example");
        events.push(page);
        mark(&mut events);
        assert_eq!(events[2].source, Some("blog.example"));
    }
}
