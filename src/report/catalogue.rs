//! One description of every report section: its name, its columns, where its figures are read
//! from, what it counts, the filter its keys are values of, and where it shows. Every list of
//! sections (`stats`' names and defaults, the sections a filter cannot apply to, the record's,
//! the dashboard's panels, the links that add a filter) is read from [`CATALOGUE`].

/// Where a section's figures come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The period's totals: the daily totals, or the record of visits when filtered.
    Totals,
    /// A daily rollup table when unfiltered (the record of visits when filtered).
    Rollup {
        /// The table.
        table: &'static str,
        /// Its key column.
        key: &'static str,
        /// Its number columns, in the order of [`Described::columns`].
        numbers: &'static [&'static str],
    },
    /// Only the record of visits holds it.
    Record,
}

/// What a section counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counts {
    /// People's visits: filters apply.
    Visits,
    /// Requests, bots included: no visit filter applies.
    Hits,
}

/// One section.
#[derive(Clone, Copy, Debug)]
pub struct Described {
    /// Its name (`entry-pages`), as `stats` and the dashboard take it.
    pub name: &'static str,
    /// The name of its key column.
    pub key: &'static str,
    /// The names of its number columns.
    pub columns: &'static [&'static str],
    /// Where it is read from.
    pub origin: Origin,
    /// What it counts.
    pub counts: Counts,
    /// The filter key its keys are values of (`entry-page`), if any.
    pub filter: Option<&'static str>,
    /// It is a panel of the dashboard (in catalogue order).
    pub panel: bool,
    /// `stats` shows it when no section is named.
    pub default: bool,
    /// It comes with another section whenever that one is asked for (`crawlers` with `bots`).
    pub with: Option<&'static str>,
}

const REACH: &[&str] = &["visitors", "pageviews"];
const VISITS: &[&str] = &["visitors", "visits", "pageviews"];
/// The columns of `hours`: the clock hours of a day.
pub const HOURS: &[&str] = &[
    "00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15",
    "16", "17", "18", "19", "20", "21", "22", "23",
];

/// A section with the defaults most have: counts visits, no filter, no panel, not default.
const fn visits(
    name: &'static str,
    key: &'static str,
    columns: &'static [&'static str],
) -> Described {
    Described {
        name,
        key,
        columns,
        origin: Origin::Record,
        counts: Counts::Visits,
        filter: None,
        panel: false,
        default: false,
        with: None,
    }
}

/// A section read from `table` when unfiltered.
const fn rolled(
    name: &'static str,
    key: &'static str,
    columns: &'static [&'static str],
    table: &'static str,
    key_column: &'static str,
    numbers: &'static [&'static str],
) -> Described {
    Described {
        origin: Origin::Rollup {
            table,
            key: key_column,
            numbers,
        },
        ..visits(name, key, columns)
    }
}

/// Every section, in the dashboard's order of panels.
pub const CATALOGUE: &[Described] = &[
    Described {
        origin: Origin::Totals,
        panel: true,
        default: true,
        ..visits("overview", "", &[])
    },
    Described {
        filter: Some("page"),
        panel: true,
        default: true,
        ..rolled("pages", "page", REACH, "daily_pages", "path", REACH)
    },
    Described {
        filter: Some("source"),
        panel: true,
        default: true,
        ..rolled(
            "sources",
            "source",
            VISITS,
            "daily_referrers",
            "source",
            VISITS,
        )
    },
    Described {
        filter: Some("entry-page"),
        panel: true,
        ..rolled(
            "entry-pages",
            "entry page",
            &["visits", "bounces"],
            "daily_entry_pages",
            "path",
            &["visits", "bounces"],
        )
    },
    Described {
        filter: Some("exit-page"),
        panel: true,
        ..visits("exit-pages", "exit page", &["visits", "pageviews"])
    },
    Described {
        panel: true,
        ..visits("campaigns", "campaign (source / medium)", VISITS)
    },
    Described {
        filter: Some("goal"),
        panel: true,
        ..visits("goals", "goal", &["visitors", "completions"])
    },
    Described {
        filter: Some("browser"),
        panel: true,
        default: true,
        ..rolled(
            "browsers",
            "browser",
            REACH,
            "daily_browsers",
            "browser",
            REACH,
        )
    },
    Described {
        filter: Some("os"),
        panel: true,
        ..rolled("os", "os", REACH, "daily_os", "os", REACH)
    },
    Described {
        filter: Some("device"),
        panel: true,
        ..rolled("devices", "device", REACH, "daily_devices", "device", REACH)
    },
    Described {
        filter: Some("country"),
        panel: true,
        ..rolled(
            "countries",
            "country",
            REACH,
            "daily_countries",
            "country",
            REACH,
        )
    },
    Described {
        counts: Counts::Hits,
        panel: true,
        ..rolled(
            "status",
            "status",
            &["hits"],
            "daily_status",
            "status",
            &["hits"],
        )
    },
    Described {
        counts: Counts::Hits,
        panel: true,
        ..rolled(
            "bots",
            "reason",
            &["hits", "visitors"],
            "daily_bots",
            "reason",
            &["hits", "visitors"],
        )
    },
    Described {
        counts: Counts::Hits,
        with: Some("bots"),
        ..rolled(
            "crawlers",
            "crawler",
            &["hits", "visitors"],
            "daily_crawlers",
            "name",
            &["hits", "visitors"],
        )
    },
    Described {
        counts: Counts::Hits,
        ..rolled(
            "not-found",
            "path",
            &["hits", "bot hits"],
            "daily_not_found",
            "path",
            &["hits", "bot_hits"],
        )
    },
    Described {
        filter: Some("utm-source"),
        ..visits("utm-sources", "utm_source", VISITS)
    },
    Described {
        filter: Some("utm-medium"),
        ..visits("utm-mediums", "utm_medium", VISITS)
    },
    Described {
        filter: Some("utm-content"),
        ..visits("utm-contents", "utm_content", VISITS)
    },
    Described {
        filter: Some("utm-term"),
        ..visits("utm-terms", "utm_term", VISITS)
    },
    visits("hours", "weekday", HOURS),
];

impl Described {
    /// The section as described here, with its rows and note.
    pub fn section(&self, rows: Vec<super::Row>, note: Option<&'static str>) -> super::Section {
        super::Section {
            name: self.name,
            key: self.key,
            columns: self.columns.to_vec(),
            rate: None,
            rows,
            note,
            parts: &[],
        }
    }
}

/// The section named `name`.
pub fn described(name: &str) -> Option<&'static Described> {
    CATALOGUE.iter().find(|d| d.name == name)
}

/// The names of every section, in catalogue order.
pub fn names() -> impl Iterator<Item = &'static str> {
    CATALOGUE.iter().map(|d| d.name)
}

/// Whether `name` counts requests (bots included), so that no visit filter applies to it.
pub fn counts_hits(name: &str) -> bool {
    described(name).is_some_and(|d| d.counts == Counts::Hits)
}

/// Whether only the record of visits holds `name`.
pub fn record_only(name: &str) -> bool {
    described(name).is_some_and(|d| d.origin == Origin::Record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_each_part_of_a_section_agrees_with_the_rest() {
        let mut seen = std::collections::HashSet::new();
        for d in CATALOGUE {
            assert!(seen.insert(d.name), "{} twice", d.name);
            if let Origin::Rollup { numbers, .. } = d.origin {
                assert_eq!(numbers.len(), d.columns.len(), "{}", d.name);
            }
            // A section of hits has no visits to filter, so no filter key either.
            assert!(
                d.counts == Counts::Visits || d.filter.is_none(),
                "{}",
                d.name
            );
            if let Some(w) = d.with {
                assert!(described(w).is_some(), "{} comes with {w}", d.name);
            }
        }
        assert_eq!(CATALOGUE[0].name, "overview");
        assert!(counts_hits("not-found") && !counts_hits("pages"));
        assert!(record_only("campaigns") && !record_only("pages") && !record_only("overview"));
    }
}
