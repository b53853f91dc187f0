//! Counts parse outcomes for a report: hits, blanks, and rejects by reason with sample lines.

use std::collections::BTreeMap;

use super::{Hit, RejectReason};

/// Sample lines kept per reject reason.
pub const SAMPLES_PER_REASON: usize = 3;
/// Bytes of a rejected line kept in a sample.
pub const SAMPLE_BYTES: usize = 300;

/// A rejected line kept as an example.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// 1-based line number in its file.
    pub line: u64,
    /// The line, lossily decoded and cut to [`SAMPLE_BYTES`].
    pub text: String,
}

/// Rejects of one reason.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReasonTally {
    /// Lines rejected for this reason.
    pub count: u64,
    /// The first few of them.
    pub samples: Vec<Sample>,
}

/// Outcome counts for one input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    /// Lines read as hits.
    pub parsed: u64,
    /// Lines rejected.
    pub rejected: u64,
    /// Empty or whitespace-only lines (neither hits nor rejects).
    pub blank: u64,
    /// Rejects by reason.
    pub reasons: BTreeMap<RejectReason, ReasonTally>,
    /// Earliest hit time (unix ms).
    pub first_ts: Option<i64>,
    /// Latest hit time (unix ms).
    pub last_ts: Option<i64>,
}

/// Cuts a line for display: lossy UTF-8, at most [`SAMPLE_BYTES`] bytes, control bytes escaped.
pub fn sample_text(line: &[u8]) -> String {
    let cut = &line[..line.len().min(SAMPLE_BYTES)];
    let mut s: String = String::from_utf8_lossy(cut)
        .chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect();
    if line.len() > SAMPLE_BYTES {
        s.push('…');
    }
    s
}

impl Tally {
    /// Whether a line is blank (counted apart, never a reject).
    #[inline]
    pub fn is_blank(line: &[u8]) -> bool {
        line.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r'))
    }

    /// Counts a hit.
    #[inline]
    pub fn hit(&mut self, hit: &Hit<'_>) {
        self.parsed += 1;
        self.first_ts = Some(self.first_ts.map_or(hit.ts_ms, |t| t.min(hit.ts_ms)));
        self.last_ts = Some(self.last_ts.map_or(hit.ts_ms, |t| t.max(hit.ts_ms)));
    }

    /// Counts a reject of `line` (over-long lines go through [`Tally::too_long`]).
    pub fn reject(&mut self, reason: RejectReason, line_no: u64, line: &[u8]) {
        self.rejected += 1;
        let r = self.reasons.entry(reason).or_default();
        r.count += 1;
        if r.samples.len() < SAMPLES_PER_REASON {
            r.samples.push(Sample {
                line: line_no,
                text: sample_text(line),
            });
        }
    }

    /// Counts an over-long line of `len` bytes.
    pub fn too_long(&mut self, line_no: u64, len: u64) {
        self.rejected += 1;
        let r = self.reasons.entry(RejectReason::TooLong).or_default();
        r.count += 1;
        if r.samples.len() < SAMPLES_PER_REASON {
            r.samples.push(Sample {
                line: line_no,
                text: format!("<{len} bytes>"),
            });
        }
    }

    /// Lines that were hits or rejects (blank lines left out).
    pub fn lines(&self) -> u64 {
        self.parsed + self.rejected
    }

    /// Rejected share of non-blank lines, 0.0 for an empty input.
    pub fn reject_ratio(&self) -> f64 {
        if self.lines() == 0 {
            0.0
        } else {
            self.rejected as f64 / self.lines() as f64
        }
    }

    /// Adds another tally's counts (samples are kept from `self` first).
    pub fn merge(&mut self, other: &Tally) {
        self.parsed += other.parsed;
        self.rejected += other.rejected;
        self.blank += other.blank;
        for (reason, t) in &other.reasons {
            let mine = self.reasons.entry(*reason).or_default();
            mine.count += t.count;
            for s in &t.samples {
                if mine.samples.len() < SAMPLES_PER_REASON {
                    mine.samples.push(s.clone());
                }
            }
        }
        self.first_ts = match (self.first_ts, other.first_ts) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_ts = match (self.last_ts, other.last_ts) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_three_samples_and_all_counts() {
        let mut t = Tally::default();
        for n in 1..=5 {
            t.reject(RejectReason::BadStatus, n, b"bad line");
        }
        let r = &t.reasons[&RejectReason::BadStatus];
        assert_eq!((r.count, r.samples.len(), r.samples[2].line), (5, 3, 3));
        assert_eq!(t.reject_ratio(), 1.0);
    }

    #[test]
    fn samples_are_cut_and_cleaned() {
        let long = vec![b'a'; 1000];
        assert_eq!(sample_text(&long).chars().count(), SAMPLE_BYTES + 1);
        assert_eq!(sample_text(b"a\x1bb\xff"), "a\u{fffd}b\u{fffd}");
    }

    #[test]
    fn merge_adds_counts_and_widens_range() {
        let mut a = Tally {
            parsed: 2,
            first_ts: Some(10),
            last_ts: Some(20),
            ..Default::default()
        };
        let b = Tally {
            parsed: 3,
            rejected: 1,
            first_ts: Some(5),
            last_ts: Some(15),
            ..Default::default()
        };
        a.merge(&b);
        assert_eq!(
            (a.parsed, a.rejected, a.first_ts, a.last_ts),
            (5, 1, Some(5), Some(20))
        );
    }
}
