//! One file in the follow loop, and how it starts: a compressed file is skipped, a file waits for
//! a whole first line (its fingerprint) and a readable format, then continues its record by the
//! rule `import` shares ([`super::resume`]) or gets a new one, read from its start (or its end,
//! with `--from end`). Afterwards: truncation and rotation checks before each read, and when a
//! rotated-away file is drained.

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::chunk_parser::ChunkParser;
use super::discover::SourceSpec;
use super::notice::Notice;
use super::pipeline::{resolve_format, ParseSettings, HEAD_BYTES};
use super::resume;
use crate::source::follower::{is_gzip, Change, Follower};
use crate::source::identity::MARKER_BYTES;
use crate::store::files;

/// Why a file did not start now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotYet {
    /// Try again at the next scan: its first line is unfinished, its format not yet told, the
    /// database busy, or another file holds its record with nothing committed yet.
    Later,
    /// Never: compressed, unreadable, a copy of a followed file, or a renamed file that no
    /// longer continues its record.
    Never,
}

/// One followed file.
pub struct Followed {
    /// Unique within the loop, to tell its buffered chunks.
    pub id: u64,
    /// Index into the sources.
    pub source: usize,
    /// The open file.
    pub follower: Follower,
    /// The name shown and committed as the record's path.
    pub display: String,
    /// `files.id` of its content, once known.
    pub record: Option<i64>,
    /// Its parser, once the format is known.
    pub parser: Option<ChunkParser>,
    /// Set once the path names another file or nothing.
    pub rotated_since: Option<Instant>,
    /// When lines were last read.
    pub last_data: Instant,
    /// Size when the format could not be told, to retry once it grows.
    undetected_at: Option<u64>,
    /// Found under a name no pattern matches (see `discover::renamed_away`): it is only drained,
    /// from its record's offset, and keeps its record's path as `display`.
    renamed: bool,
}

impl Followed {
    /// A file found by name, not started yet.
    pub fn named(id: u64, source: usize, follower: Follower, display: String) -> Followed {
        Followed {
            id,
            source,
            follower,
            display,
            record: None,
            parser: None,
            rotated_since: None,
            last_data: Instant::now(),
            undetected_at: None,
            renamed: false,
        }
    }

    /// A known file found renamed away from `was` (the path its record was committed under): it
    /// is read to its end and closed, as a file rotated away while followed is.
    pub fn renamed(id: u64, source: usize, follower: Follower, was: String) -> Followed {
        Followed {
            rotated_since: Some(Instant::now()),
            renamed: true,
            ..Followed::named(id, source, follower, was)
        }
    }

    /// Looks for truncation and rotation (never of a file already rotated away).
    pub fn check(&mut self, notices: &mut Vec<Notice>) {
        if self.rotated_since.is_some() {
            return;
        }
        match self.follower.check() {
            Ok(Change::Same) => {}
            Ok(Change::Truncated) => {
                self.follower.restart();
                self.record = None;
                self.parser = None;
                notices.push(Notice::Truncated {
                    path: self.display.clone(),
                });
            }
            Ok(Change::RotatedAway) => {
                self.rotated_since = Some(Instant::now());
                notices.push(Notice::RotatedAway {
                    path: self.display.clone(),
                });
            }
            Err(error) => notices.push(Notice::ReadFailed {
                path: self.display.clone(),
                error,
            }),
        }
    }

    /// Whether a rotated-away file was idle for `idle` and read to its end.
    pub fn drained(&self, idle: Duration) -> bool {
        self.rotated_since
            .is_some_and(|t| t.elapsed() >= idle && self.last_data.elapsed() >= idle)
            && self.follower.unread().is_ok_and(|n| n == 0)
    }

    fn failed(&self, notices: &mut Vec<Notice>, error: io::Error) -> NotYet {
        notices.push(Notice::ReadFailed {
            path: self.display.clone(),
            error,
        });
        NotYet::Never
    }

    /// First step of a start: the file's fingerprint, and its parser (told from its first lines
    /// unless the source fixes the format). One read of the start serves the gzip check, the
    /// fingerprint and format detection.
    pub fn identify(
        &mut self,
        source: &SourceSpec,
        parse: &ParseSettings,
        notices: &mut Vec<Notice>,
    ) -> Result<i64, NotYet> {
        let head = match self.follower.head(HEAD_BYTES) {
            Ok(h) => h,
            Err(e) => return Err(self.failed(notices, e)),
        };
        if is_gzip(&head) {
            notices.push(Notice::Skipped {
                path: self.display.clone(),
                why: "gzip-compressed: rotated copies are read with `logtally import`".into(),
            });
            return Err(NotYet::Never);
        }
        let Some(fingerprint) = self.follower.identify(&head) else {
            return Err(NotYet::Later);
        };
        if self.parser.is_none() {
            let size = self.follower.size().unwrap_or(0);
            if self.undetected_at == Some(size) {
                return Err(NotYet::Later);
            }
            match resolve_format(&source.choice, &head) {
                Ok(format) => {
                    let parse = ParseSettings {
                        site: crate::source::paths::site_of(
                            source.site.as_deref().or(parse.site.as_deref()),
                            Path::new(&self.display),
                        ),
                        ..parse.clone()
                    };
                    self.parser = Some(parse.parser(format));
                }
                Err(why) => {
                    if self.undetected_at.is_none() {
                        notices.push(Notice::Skipped {
                            path: self.display.clone(),
                            why: why.to_string(),
                        });
                    }
                    self.undetected_at = Some(size);
                    return Err(NotYet::Later);
                }
            }
        }
        Ok(fingerprint)
    }

    /// Second step of a start: where reading starts. The file continues a known record (by the
    /// shared rule) or gets a new one; `held` are the records of the other followed files, and
    /// `from_end` skips the history of a new file present at start-up. Nothing read by the loop
    /// may wait uncommitted meanwhile: a copytruncate copy continues the record of the file it
    /// copies.
    pub fn place(
        &mut self,
        conn: &Connection,
        fingerprint: i64,
        held: &[i64],
        from_end: bool,
        notices: &mut Vec<Notice>,
    ) -> Result<(), NotYet> {
        let Ok(candidates) = files::candidates(conn, fingerprint) else {
            return Err(NotYet::Later);
        };
        let size = self.follower.size().unwrap_or(0);
        // An unreadable marker counts as a mismatch (new content), as a short file does.
        let marker_at = |offset, len| Ok(self.follower.marker_at(offset, len).ok().flatten());
        let continued = resume::continued(size, candidates, marker_at).unwrap_or(None);
        if let Some(c) = continued {
            if held.contains(&c.id) {
                // Followed under another name: a copy of it (copytruncate's copy may appear
                // before the truncation is seen), so never read twice. While nothing of it is
                // committed the marker cannot tell a copy from another file with the same first
                // line: look again after the next commit.
                return Err(if c.offset == 0 {
                    NotYet::Later
                } else {
                    NotYet::Never
                });
            }
            if let Err(e) = self.follower.start_at(c.offset, c.lines + 1) {
                return Err(self.failed(notices, e));
            }
            notices.push(if self.renamed {
                Notice::DrainingRenamed {
                    path: self.follower.path().display().to_string(),
                    was: self.display.clone(),
                    offset: c.offset,
                }
            } else {
                Notice::Following {
                    path: self.display.clone(),
                    offset: c.offset,
                    resumed: c.offset > 0,
                }
            });
            self.record = Some(c.id);
            return Ok(());
        }
        if self.renamed {
            // Changed since it was found: not a file the patterns name, so not ours to read.
            return Err(NotYet::Never);
        }
        let Ok(record) = files::create(
            conn,
            &self.display,
            fingerprint,
            Some(self.follower.dev_ino()),
            false,
        ) else {
            return Err(NotYet::Later);
        };
        if held.contains(&record.id) {
            // Another followed file with the same first line and nothing committed yet.
            return Err(NotYet::Later);
        }
        let (mut offset, mut line) = (record.offset, record.lines + 1);
        if from_end && record.offset == 0 {
            match self.follower.end_of_last_line() {
                Ok((end, lines)) if end > 0 => {
                    let marker = self
                        .follower
                        .marker_at(end, MARKER_BYTES as u32)
                        .ok()
                        .flatten()
                        .unwrap_or((0, 0));
                    if files::skip_to(conn, record.id, &self.display, end, lines, marker).is_err() {
                        return Err(NotYet::Later);
                    }
                    (offset, line) = (end, lines + 1);
                }
                Ok(_) => {}
                Err(e) => return Err(self.failed(notices, e)),
            }
        }
        if let Err(e) = self.follower.start_at(offset, line) {
            return Err(self.failed(notices, e));
        }
        notices.push(Notice::Following {
            path: self.display.clone(),
            offset,
            resumed: false,
        });
        self.record = Some(record.id);
        Ok(())
    }
}
