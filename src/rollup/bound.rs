//! Keeps a day's rollup rows bounded whatever visitors send. Rollups are kept forever, and their
//! keys (paths, sources, 404 paths) are chosen by whoever sends a request: 20,000 requests for
//! random 4 KB paths would otherwise add 80 MB of 404 rows for good. Per site and day, each such
//! table keeps its top keys and one [`OTHER`] row with the sum of the rest, and every key is cut
//! to [`KEY_CHARS`] characters. Totals are untouched: they never depended on keys.

use foldhash::{HashMap, HashMapExt};

use crate::store::rollups::{Entries, Reach, SiteDay};

/// The key of the row that sums the keys beyond the top ones.
pub const OTHER: &str = "(other)";
/// Longest key kept, in characters; a longer one ends in `…`.
pub const KEY_CHARS: usize = 300;
/// Pages, entry pages and sources kept per site and day.
pub const TOP_KEYS: usize = 1_000;
/// 404 paths kept per site and day (mostly scanners: the top ones say enough).
pub const TOP_NOT_FOUND: usize = 100;

/// A row's figures, summed when keys merge.
trait Merge {
    fn merge(&mut self, other: &Self);
    /// What ranks a key.
    fn weight(&self) -> u64;
}

impl Merge for Reach {
    fn merge(&mut self, o: &Reach) {
        self.visitors += o.visitors;
        self.pageviews += o.pageviews;
    }
    fn weight(&self) -> u64 {
        self.pageviews
    }
}

impl Merge for Entries {
    fn merge(&mut self, o: &Entries) {
        self.visits += o.visits;
        self.bounces += o.bounces;
        self.visitors += o.visitors;
        self.pageviews += o.pageviews;
    }
    fn weight(&self) -> u64 {
        self.visits
    }
}

/// 404s: (hits, bot hits).
impl Merge for (u64, u64) {
    fn merge(&mut self, o: &(u64, u64)) {
        self.0 += o.0;
        self.1 += o.1;
    }
    fn weight(&self) -> u64 {
        self.0
    }
}

/// `key` cut to [`KEY_CHARS`] characters.
fn cut(key: &str) -> Option<String> {
    let (end, _) = key.char_indices().nth(KEY_CHARS)?;
    Some(format!("{}…", &key[..end]))
}

/// Cuts long keys (merging those that become equal), then keeps the `top` heaviest keys (ties by
/// key, so the result does not depend on hash order) and sums the rest under [`OTHER`].
fn bound_map<V: Merge + Default>(map: &mut HashMap<String, V>, top: usize) {
    let long: Vec<String> = map
        .keys()
        .filter(|k| k.chars().nth(KEY_CHARS).is_some())
        .cloned()
        .collect();
    for key in long {
        let v = map.remove(&key).expect("listed key");
        let short = cut(&key).expect("a long key");
        map.entry(short).or_default().merge(&v);
    }
    if map.len() <= top {
        return;
    }
    let mut rows: Vec<(String, V)> = map.drain().collect();
    rows.sort_by(|(ka, a), (kb, b)| b.weight().cmp(&a.weight()).then_with(|| ka.cmp(kb)));
    let mut other = V::default();
    let mut kept = HashMap::with_capacity(top + 1);
    for (i, (key, v)) in rows.into_iter().enumerate() {
        if i < top && key != OTHER {
            kept.insert(key, v);
        } else {
            other.merge(&v);
        }
    }
    kept.entry(OTHER.to_string()).or_default().merge(&other);
    *map = kept;
}

/// Bounds the tables of `day` whose keys visitors choose.
pub fn bound(day: &mut SiteDay) {
    bound_map(&mut day.pages, TOP_KEYS);
    bound_map(&mut day.entry_pages, TOP_KEYS);
    bound_map(&mut day.sources, TOP_KEYS);
    bound_map(&mut day.not_found, TOP_NOT_FOUND);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_keys_stay_and_the_rest_is_summed_under_other() {
        let mut day = SiteDay::default();
        for i in 0..(TOP_NOT_FOUND as u64 + 50) {
            day.not_found.insert(format!("/scan/{i:04}"), (i + 1, i));
        }
        let total: u64 = day.not_found.values().map(|v| v.0).sum();
        bound(&mut day);
        assert_eq!(day.not_found.len(), TOP_NOT_FOUND + 1);
        assert_eq!(day.not_found.values().map(|v| v.0).sum::<u64>(), total);
        assert_eq!(day.not_found[OTHER], ((1..=50).sum(), (0..50).sum()));
        assert!(day.not_found.contains_key("/scan/0149"), "the heaviest");
        assert!(!day.not_found.contains_key("/scan/0000"), "the lightest");
    }

    #[test]
    fn long_keys_are_cut_and_merge() {
        let mut day = SiteDay::default();
        let base = "/".repeat(KEY_CHARS);
        for tail in ["a", "b"] {
            day.pages.insert(
                format!("{base}{tail}"),
                Reach {
                    visitors: 1,
                    pageviews: 2,
                },
            );
        }
        day.pages.insert("/short".into(), Reach::default());
        bound(&mut day);
        let cut = format!("{base}…");
        assert_eq!(
            day.pages[&cut],
            Reach {
                visitors: 2,
                pageviews: 4
            }
        );
        assert_eq!(day.pages.len(), 2);
        assert!(day.pages.keys().all(|k| k.chars().count() <= KEY_CHARS + 1));
    }

    #[test]
    fn a_day_within_bounds_is_unchanged() {
        let mut day = SiteDay::default();
        day.sources.insert("Google".into(), Entries::default());
        let before = day.clone();
        bound(&mut day);
        assert_eq!(day, before);
    }
}
