//! A dashboard view from its URL: `period`, or `since` and `until`, `site`, and `filter`
//! repeated, in the words of `stats`. Anything else, or a value that does not make sense, is a
//! 400 with the reason.

use chrono::NaiveDate;

use crate::query::period::{self, PERIODS};
/// Longest value accepted.
const MAX_VALUE: usize = 1_000;
/// Most filters in one view.
const MAX_FILTERS: usize = 20;

/// A view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    /// `period`.
    pub period: Option<String>,
    /// `since` and `until`.
    pub range: Option<(NaiveDate, Option<NaiveDate>)>,
    /// `site`.
    pub site: Option<String>,
    /// `filter`, in order.
    pub filters: Vec<String>,
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes a query component (`%HH`, `+` for space).
fn decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let (h, l) = (
                    b.get(i + 1).copied().and_then(hex),
                    b.get(i + 2).copied().and_then(hex),
                );
                match (h, l) {
                    (Some(h), Some(l)) => out.push(h * 16 + l),
                    _ => return Err(format!("bad escape in {s:?}")),
                }
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} is not UTF-8"))
}

fn date(name: &str, v: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| format!("{name}={v:?} is not a date (YYYY-MM-DD)"))
}

impl View {
    /// Reads a query string.
    pub fn parse(query: &str) -> Result<View, String> {
        View::parse_with(query, &[]).map(|(v, _)| v)
    }

    /// Reads a query string whose parameters may also be those named in `extra` (an endpoint's
    /// own, such as `limit`): their values are returned apart, by name, the last one given.
    pub fn parse_with(
        query: &str,
        extra: &[&str],
    ) -> Result<(View, std::collections::BTreeMap<String, String>), String> {
        let mut extras = std::collections::BTreeMap::new();
        let mut view = View::default();
        let (mut since, mut until) = (None, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (decode(k)?, decode(v)?);
            if v.len() > MAX_VALUE {
                return Err(format!("{k} is longer than {MAX_VALUE} bytes"));
            }
            match k.as_str() {
                "period" => {
                    if !PERIODS.contains(&v.as_str()) {
                        return Err(format!("period={v:?}: periods are {}", PERIODS.join(", ")));
                    }
                    view.period = Some(v);
                }
                "since" => since = Some(date("since", &v)?),
                "until" => until = Some(date("until", &v)?),
                "site" if !v.is_empty() => view.site = Some(v),
                "site" => {}
                "filter" => {
                    if view.filters.len() == MAX_FILTERS {
                        return Err(format!("at most {MAX_FILTERS} filters"));
                    }
                    view.filters.push(v);
                }
                other if extra.contains(&other) => {
                    extras.insert(k, v);
                }
                other => {
                    let mut known = vec!["period", "since", "until", "site", "filter"];
                    known.extend_from_slice(extra);
                    return Err(format!(
                        "unknown parameter {other:?}: this takes {}",
                        known.join(", ")
                    ));
                }
            }
        }
        match (since, until) {
            (None, Some(_)) => return Err("until needs since".into()),
            (Some(s), Some(u)) if u < s => {
                return Err(format!("until {u} is before since {s}"));
            }
            (Some(s), u) => {
                if view.period.is_some() {
                    return Err("give period, or since and until, not both".into());
                }
                view.range = Some((s, u));
            }
            (None, None) => {}
        }
        Ok((view, extras))
    }

    /// The first and last day of the view (default: the last 30 days).
    pub fn bounds(
        &self,
        today: NaiveDate,
        data: Option<(NaiveDate, NaiveDate)>,
    ) -> (NaiveDate, NaiveDate) {
        if let Some((s, u)) = self.range {
            return (s, u.unwrap_or(today));
        }
        period::bounds(self.period.as_deref().unwrap_or("30d"), today, data)
            .expect("periods are checked when read")
    }

    /// The period picked, as the period picker shows it (`None` for a range).
    pub fn period_name(&self) -> Option<String> {
        if self.range.is_some() {
            None
        } else {
            Some(self.period.clone().unwrap_or_else(|| "30d".into()))
        }
    }

    /// The view's words but its filters, for links that change only the filters.
    pub fn words(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(p) = &self.period {
            out.push(("period".into(), p.clone()));
        }
        if let Some((s, u)) = self.range {
            out.push(("since".into(), s.to_string()));
            if let Some(u) = u {
                out.push(("until".into(), u.to_string()));
            }
        }
        if let Some(s) = &self.site {
            out.push(("site".into(), s.clone()));
        }
        out
    }
}

/// Decodes standard base64 (for HTTP Basic credentials).
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_read_the_words_of_stats() {
        let v = View::parse(
            "period=7d&site=example.com&filter=source%3DHacker+News&filter=page%3D%2Fa",
        )
        .unwrap();
        assert_eq!(v.period.as_deref(), Some("7d"));
        assert_eq!(v.site.as_deref(), Some("example.com"));
        assert_eq!(v.filters, ["source=Hacker News", "page=/a"]);
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        assert_eq!(v.bounds(d(3, 15), None), (d(3, 9), d(3, 15)));
        let r = View::parse("since=2026-03-01&until=2026-03-05").unwrap();
        assert_eq!(r.bounds(d(3, 15), None), (d(3, 1), d(3, 5)));
        assert_eq!(r.period_name(), None);
        assert_eq!(View::parse("").unwrap().bounds(d(3, 30), None).0, d(3, 1));
    }

    #[test]
    fn nonsense_is_refused_with_the_reason() {
        for (q, needle) in [
            ("period=fortnight", "periods are"),
            ("since=yesterday", "YYYY-MM-DD"),
            ("until=2026-01-01", "needs since"),
            ("since=2026-02-01&until=2026-01-01", "before"),
            ("period=7d&since=2026-01-01", "not both"),
            ("colour=red", "unknown parameter"),
            ("filter=%zz", "bad escape"),
            ("filter=%ff", "UTF-8"),
        ] {
            let e = View::parse(q).unwrap_err();
            assert!(e.contains(needle), "{q}: {e}");
        }
        let long = format!("site={}", "a".repeat(2_000));
        assert!(View::parse(&long).is_err());
    }

    #[test]
    fn an_endpoint_names_its_own_parameters() {
        let (v, extra) = View::parse_with("period=7d&limit=5&limit=3", &["limit"]).unwrap();
        assert_eq!(v.period.as_deref(), Some("7d"));
        assert_eq!(extra["limit"], "3", "the last one given");
        let e = View::parse_with("page=/a", &["limit"]).unwrap_err();
        assert!(e.contains("filter, limit"), "{e}");
    }

    #[test]
    fn basic_credentials_decode() {
        assert_eq!(base64_decode("dXNlcjpzZWNyZXQ=").unwrap(), b"user:secret");
        assert!(base64_decode("not base64!").is_none());
    }
}
