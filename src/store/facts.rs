//! Per-site facts counted at ingest and read by rollup over a window of days (see
//! `site_days` in migration 0004): how many subresource requests a site's browsers made with a
//! referrer, how many over HTTP/1.x, the referrer hosts they named, and the pages (as keys) of
//! those hosts that load subresources.

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::classify::referrer::IP_HOST;
use crate::model::{split_referrer, ParsedChunk};

/// Days on each side of a day that its window covers.
pub const WINDOW_DAYS: i64 = 14;

/// Adds a chunk's facts, resolved to stored site ids (`sites[local]`).
pub fn add(tx: &Transaction<'_>, chunk: &ParsedChunk, sites: &[i64]) -> rusqlite::Result<()> {
    let mut days = tx.prepare_cached(
        "INSERT INTO site_days (site, day, referred_assets, referred_assets_http1) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (site, day) DO UPDATE SET referred_assets = referred_assets + excluded.referred_assets,
             referred_assets_http1 = referred_assets_http1 + excluded.referred_assets_http1",
    )?;
    let mut hosts = tx.prepare_cached(
        "INSERT INTO site_day_hosts (site, day, host, hits) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (site, day, host) DO UPDATE SET hits = hits + excluded.hits",
    )?;
    let mut pages = tx.prepare_cached(
        "INSERT INTO site_day_pages (site, day, host, page, hits) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (site, day, host, page) DO UPDATE SET hits = hits + excluded.hits",
    )?;
    for ((site, day), f) in &chunk.site_facts {
        let site = sites[*site as usize];
        days.execute(params![
            site,
            day,
            f.referred_assets,
            f.referred_assets_http1
        ])?;
        for ((referrer, page), hits) in &f.pages {
            let (host, _) = split_referrer(&chunk.referrers.items[*referrer as usize]);
            if !host.is_empty() {
                pages.execute(params![site, day, host, page, hits])?;
            }
        }
        for (referrer, hits) in &f.hosts {
            let (host, _) = split_referrer(&chunk.referrers.items[*referrer as usize]);
            if !host.is_empty() {
                hosts.execute(params![site, day, host, hits])?;
            }
        }
    }
    Ok(())
}

/// A site's facts over a window of days.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// Subresource requests with a referrer.
    pub referred_assets: u64,
    /// Of which over HTTP/1.x.
    pub referred_assets_http1: u64,
    /// The host they named most, and how often.
    pub top_host: Option<(String, u64)>,
    /// The pages of the top host (and of IP-address referrers) they named
    /// (`classify::referrer::page_key`).
    pub pages: HashSet<i64>,
}

/// Deletes the facts of days before `day`; returns the rows deleted.
pub fn forget_before(tx: &Transaction<'_>, day: i64) -> rusqlite::Result<u64> {
    let mut n = 0;
    for table in ["site_days", "site_day_hosts", "site_day_pages"] {
        n += tx.execute(&format!("DELETE FROM {table} WHERE day < ?1"), [day])? as u64;
    }
    Ok(n)
}

/// The facts of site `site` (a name) over `[day - WINDOW_DAYS, day + WINDOW_DAYS]`.
pub fn window(conn: &Connection, site: &str, day: i64) -> rusqlite::Result<Window> {
    let Some(id) = conn
        .prepare_cached("SELECT id FROM sites WHERE name = ?1")?
        .query_row([site], |r| r.get::<_, i64>(0))
        .optional()?
    else {
        return Ok(Window::default());
    };
    let (from, to) = (day - WINDOW_DAYS, day + WINDOW_DAYS);
    let (referred_assets, referred_assets_http1) = conn
        .prepare_cached(
            "SELECT coalesce(sum(referred_assets), 0), coalesce(sum(referred_assets_http1), 0)
             FROM site_days WHERE site = ?1 AND day BETWEEN ?2 AND ?3",
        )?
        .query_row(params![id, from, to], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let top_host = conn
        .prepare_cached(
            "SELECT host, sum(hits) AS n FROM site_day_hosts WHERE site = ?1 AND day BETWEEN ?2 AND ?3
             GROUP BY host ORDER BY n DESC, host LIMIT 1",
        )?
        .query_row(params![id, from, to], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let own = top_host
        .as_ref()
        .map_or("", |(h, _): &(String, u64)| h.as_str());
    let pages = conn
        .prepare_cached(
            "SELECT DISTINCT page FROM site_day_pages
             WHERE site = ?1 AND day BETWEEN ?2 AND ?3 AND (host = ?4 OR host = ?5)",
        )?
        .query_map(params![id, from, to, own, IP_HOST], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Window {
        referred_assets,
        referred_assets_http1,
        top_host,
        pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SiteFacts;
    use crate::store::Store;

    #[test]
    fn chunks_add_up_and_a_window_reads_its_days_only() {
        let mut store = Store::open_in_memory().unwrap();
        let mut chunk = ParsedChunk::default();
        chunk.sites.intern("example.com");
        let own = chunk.referrers.intern("example.com\0Internal");
        let other = chunk.referrers.intern("news.ycombinator.com\0Hacker News");
        for (day, assets, http1) in [(100, 10, 1), (110, 5, 0), (200, 7, 7)] {
            let mut f = SiteFacts {
                referred_assets: assets,
                referred_assets_http1: http1,
                ..Default::default()
            };
            f.hosts.insert(own, assets - 1);
            f.hosts.insert(other, 1);
            f.pages.insert((own, day), 1);
            f.pages.insert((other, day + 1), 1); // an outside page: never read back
            chunk.site_facts.insert((0, day), f);
        }
        let site: i64 = {
            let tx = store.conn.transaction().unwrap();
            tx.execute("INSERT INTO sites (name) VALUES ('example.com')", [])
                .unwrap();
            let id = tx.last_insert_rowid();
            add(&tx, &chunk, &[id]).unwrap();
            add(&tx, &chunk, &[id]).unwrap(); // a second chunk with the same counts
            tx.commit().unwrap();
            id
        };
        assert!(site > 0);
        let w = window(&store.conn, "example.com", 105).unwrap();
        assert_eq!(
            w,
            Window {
                referred_assets: 30,
                referred_assets_http1: 2,
                top_host: Some(("example.com".into(), 26)),
                pages: [100, 110].into_iter().collect(),
            }
        );
        assert_eq!(
            window(&store.conn, "example.com", 150).unwrap(),
            Window::default()
        );
        assert_eq!(
            window(&store.conn, "nobody.example", 105).unwrap(),
            Window::default()
        );
    }
}
