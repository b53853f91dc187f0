//! Which referrers are the site itself, when neither a host field nor `--site` names it: the host
//! that most subresource requests name as their referrer (a browser sends the page's address with
//! every stylesheet, script and image it loads; counted at ingest, see `store::facts`) is the
//! site's own, and so is a referrer that is an IP address (the server's own, when people browse
//! it by address). Visits referred by them are `Direct`, never an outside source.

use foldhash::HashMap;

use super::aggregate::Event;
use super::behaviour::SiteProfile;
use crate::classify::referrer::{INTERNAL, IP_HOST};

/// Marks as `Internal` the source of every event referred by its site's own host (from its
/// profile) or by an IP address; campaign sources named in the query are kept.
pub fn mark(events: &mut [Event<'_>], profiles: &HashMap<&str, SiteProfile>) {
    for e in events.iter_mut() {
        let Some(host) = e.referrer_host else {
            continue;
        };
        if e.campaign {
            continue;
        }
        let own = profiles.get(e.site).and_then(|p| p.own_host.as_deref());
        if host == IP_HOST || own == Some(host) {
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
        let mut profiles = HashMap::default();
        profiles.insert(
            "s",
            SiteProfile {
                serves: true,
                modern: true,
                own_host: Some("blog.example".into()),
                pages: Default::default(),
            },
        );
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
        let mut events = vec![page, outside, by_ip, campaign];
        mark(&mut events, &profiles);
        let sources: Vec<_> = events.iter().map(|e| e.source).collect();
        assert_eq!(
            sources,
            vec![
                Some(INTERNAL),
                Some("Hacker News"),
                Some(INTERNAL),
                Some("newsletter")
            ]
        );
        // Without a profile only the IP address is known to be the site's.
        let mut events = events.clone();
        events[0].source = Some("blog.example");
        mark(&mut events, &HashMap::default());
        assert_eq!(events[0].source, Some("blog.example"));
    }
}
