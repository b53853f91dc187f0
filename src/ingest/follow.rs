//! The `tail` loop: finds the files matching the patterns, follows each one across rotation,
//! parses what they gain, feeds the live map, and commits everything read in one transaction every
//! flush interval or batch size, events and offsets together, so a crash loses nothing that a
//! restart will not read again and counts nothing twice.
//!
//! When the database refuses writes, the buffer is kept and retried, and reading pauses once the
//! buffer is full (backpressure): memory stays bounded and no line is dropped.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::chunk_parser::ChunkParser;
use super::pipeline::{resolve_format, ParseSettings, HEAD_BYTES};
use super::resume;
use super::rows::ParsedChunk;
use crate::classify::visitor::DayClock;
use crate::clock::now_ms;
use crate::live::state::LiveState;
use crate::parse::FormatChoice;
use crate::source::follower::{dev_ino_of, is_gzip, Change, Follower, READ_BUDGET};
use crate::source::paths::Pattern;
use crate::source::watcher::{Watcher, BACKSTOP};
use crate::store::batch::{CommitError, Progress, Writer};
use crate::store::files::{self, FileRecord};
use crate::store::Store;

/// Settings of the loop.
#[derive(Clone, Debug)]
pub struct FollowSettings {
    /// Longest time a read line waits for its commit.
    pub flush_interval: Duration,
    /// Rows that trigger a commit before the interval.
    pub batch_rows: usize,
    /// Files never seen before, present at start-up, are read from their end.
    pub from_end: bool,
    /// Poll instead of inotify.
    pub poll: bool,
    /// How often to look at the files when polling.
    pub poll_interval: Duration,
    /// How long a rotated-away file must stay idle before it is closed.
    pub drain_idle: Duration,
}

/// A path or glob to follow, and how its files are read.
#[derive(Clone, Debug)]
pub struct SourceSpec {
    /// Which files.
    pub pattern: Pattern,
    /// Their format (or detection).
    pub choice: FormatChoice,
    /// Site name for their hits (`None`: the log's host field).
    pub site: Option<String>,
}

/// Something the loop wants the operator to know; the caller decides how to log it.
#[derive(Debug)]
pub enum Notice {
    /// Started following a file.
    Following {
        /// The file.
        path: String,
        /// Where reading starts.
        offset: u64,
        /// Whether it continues an earlier run.
        resumed: bool,
    },
    /// A file matched but is not followed.
    Skipped {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
    /// A file was truncated or rewritten: read again from its start.
    Truncated {
        /// The file.
        path: String,
    },
    /// A file was renamed or deleted: its last lines are being drained.
    RotatedAway {
        /// The file.
        path: String,
    },
    /// A rotated-away file was read to its end and closed.
    Closed {
        /// The file.
        path: String,
    },
    /// A file could not be read.
    ReadFailed {
        /// The file.
        path: String,
        /// Why.
        error: io::Error,
    },
    /// Committing failed; the rows are kept and retried. Given at most once a minute.
    CommitFailed {
        /// Why.
        error: String,
        /// Rows waiting.
        pending_rows: usize,
    },
    /// Commits work again after failing.
    CommitRecovered {
        /// Seconds the database refused writes.
        after_seconds: u64,
    },
    /// inotify could not be used.
    Polling {
        /// Why.
        why: String,
    },
}

/// Counters for status lines.
#[derive(Clone, Debug, Default)]
pub struct Status {
    /// Lines committed since start.
    pub lines: u64,
    /// Hits committed since start.
    pub rows: u64,
    /// Rows read and waiting for a commit.
    pub pending_rows: usize,
    /// Files followed.
    pub files: usize,
    /// Time from reading the oldest line of the last commit to that commit.
    pub last_lag: Duration,
    /// Whether commits are failing now.
    pub failing: bool,
}

struct Followed {
    id: u64,
    /// Index into the sources.
    source: usize,
    follower: Follower,
    display: String,
    /// `files.id` of its content, once known.
    record: Option<i64>,
    parser: Option<ChunkParser>,
    /// Set once the path names another file or nothing.
    rotated_since: Option<Instant>,
    last_data: Instant,
    /// Size when the format could not be told, to retry once it grows.
    undetected_at: Option<u64>,
}

struct Pending {
    follower: u64,
    record: i64,
    path: String,
    chunk: ParsedChunk,
    read_at: Instant,
}

/// The follow loop's state.
pub struct Follow<'a> {
    store: &'a mut Store,
    writer: Writer,
    parse: ParseSettings,
    settings: FollowSettings,
    sources: Vec<SourceSpec>,
    followed: Vec<Followed>,
    next_id: u64,
    pending: Vec<Pending>,
    pending_rows: usize,
    live: Arc<Mutex<LiveState>>,
    status: Status,
    notices: Vec<Notice>,
    failing_since: Option<Instant>,
    last_failure_notice: Option<Instant>,
    skipped: HashMap<(u64, u64), u64>,
    clock: DayClock,
    idle_checkpointed: bool,
    last_activity: Instant,
}

/// How often a failing commit is reported.
const FAILURE_NOTICE_EVERY: Duration = Duration::from_secs(60);
/// How long the loop may read before it looks at signals and deadlines again.
const READ_SLICE: Duration = Duration::from_millis(100);
/// Idle time after which the WAL is truncated.
const IDLE_CHECKPOINT: Duration = Duration::from_secs(30);
/// Longest wait between two looks at the stop flag.
const STOP_CHECK: Duration = Duration::from_millis(100);

impl<'a> Follow<'a> {
    /// A loop over `sources`, writing to `store`.
    pub fn new(
        store: &'a mut Store,
        parse: ParseSettings,
        settings: FollowSettings,
        sources: Vec<SourceSpec>,
        live: Arc<Mutex<LiveState>>,
    ) -> Follow<'a> {
        let clock = DayClock::new(parse.tz);
        Follow {
            store,
            writer: Writer::new(),
            parse,
            settings,
            sources,
            followed: Vec::new(),
            next_id: 0,
            pending: Vec::new(),
            pending_rows: 0,
            live,
            status: Status::default(),
            notices: Vec::new(),
            failing_since: None,
            last_failure_notice: None,
            skipped: HashMap::new(),
            clock,
            idle_checkpointed: true,
            last_activity: Instant::now(),
        }
    }

    /// Notices gathered since the last call.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    /// Counters for a status line.
    pub fn status(&self) -> Status {
        Status {
            pending_rows: self.pending_rows,
            files: self.followed.len(),
            failing: self.failing_since.is_some(),
            ..self.status.clone()
        }
    }

    fn watcher(&mut self) -> (Watcher, Duration) {
        let mut dirs: Vec<PathBuf> = self
            .sources
            .iter()
            .filter_map(|s| s.pattern.watch_dir())
            .collect();
        dirs.sort();
        dirs.dedup();
        dirs.retain(|p| p.is_dir());
        let (watcher, why) = Watcher::new(&dirs, self.settings.poll);
        if let Some(why) = why {
            self.notices.push(Notice::Polling { why });
        }
        let look_every = if watcher.is_notify() {
            BACKSTOP
        } else {
            self.settings.poll_interval
        };
        (watcher, look_every)
    }

    /// Runs until `stop` is set, then commits what was read and returns. `reopen` (SIGHUP) makes
    /// it commit, ask `reload` for new sources (a reread configuration), close every file and
    /// find them again. `tick` is called at least every `STOP_CHECK` with the notices and status
    /// (for logging and systemd).
    pub fn run(
        &mut self,
        stop: &AtomicBool,
        reopen: &AtomicBool,
        reload: &mut dyn FnMut() -> Option<Vec<SourceSpec>>,
        tick: &mut dyn FnMut(&mut Self),
    ) -> Result<(), CommitError> {
        let (mut watcher, mut look_every) = self.watcher();
        self.salts_ahead();
        self.scan(true);
        let mut next_look = Instant::now() + look_every;
        let mut first_pending: Option<Instant> = None;
        loop {
            if stop.load(Ordering::Relaxed) {
                return self.final_flush();
            }
            if reopen.swap(false, Ordering::Relaxed) && self.flush().is_ok() {
                if let Some(sources) = reload() {
                    self.sources = sources;
                }
                self.followed.clear();
                self.skipped.clear();
                (watcher, look_every) = self.watcher();
                self.scan(false);
            }
            let backpressure = self.pending_rows >= 2 * self.settings.batch_rows;
            if !backpressure {
                self.read_all(stop);
            }
            if !self.pending.is_empty() {
                let since = *first_pending.get_or_insert_with(Instant::now);
                let due = self.pending_rows >= self.settings.batch_rows
                    || since.elapsed() >= self.settings.flush_interval
                    || self.followed.iter().any(|f| self.drained(f));
                if due && self.flush().is_ok() {
                    first_pending = None;
                }
            }
            self.close_drained();
            self.checkpoint_when_idle();
            tick(self);

            let mut deadline = next_look.min(Instant::now() + STOP_CHECK);
            if let Some(since) = first_pending {
                deadline = deadline.min(since + self.settings.flush_interval);
            }
            let more = self
                .followed
                .iter()
                .any(|f| f.follower.started() && f.follower.unread().is_ok_and(|n| n > 0));
            let wake = if more && !backpressure {
                Default::default()
            } else {
                watcher.wait(deadline)
            };
            let waiting = wake.data && self.followed.iter().any(|f| f.record.is_none());
            if wake.names || waiting || Instant::now() >= next_look {
                self.scan(false);
                next_look = Instant::now() + look_every;
            }
        }
    }

    /// Commits what was read, retrying a busy database for a short while (SIGTERM must end
    /// within 2 s).
    fn final_flush(&mut self) -> Result<(), CommitError> {
        let give_up = Instant::now() + Duration::from_millis(1500);
        loop {
            match self.flush() {
                Ok(()) => {
                    let _ = self.checkpoint("TRUNCATE");
                    return Ok(());
                }
                Err(e) if Instant::now() >= give_up => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Makes today's and tomorrow's salts now, so they are saved before any other process can
    /// make its own for the same day.
    fn salts_ahead(&mut self) {
        let today = self.clock.day(now_ms());
        self.parse.salts.get(today);
        self.parse.salts.get(today + 1);
        self.parse.salts.forget_before(today - 2);
    }

    /// Finds new files matching the patterns and starts the ones not started yet (rotation and
    /// truncation of followed files are checked before each read, in `read_all`).
    fn scan(&mut self, first: bool) {
        let matched: Vec<(usize, PathBuf)> = self
            .sources
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.pattern.matches().into_iter().map(move |p| (i, p)))
            .collect();
        for (source, path) in matched {
            let Some(key) = dev_ino_of(&path) else {
                continue;
            };
            if self.followed.iter().any(|f| f.follower.dev_ino() == key) {
                continue;
            }
            let size = std::fs::metadata(&path).map_or(0, |m| m.len());
            if self.skipped.get(&key) == Some(&size) {
                continue;
            }
            match Follower::open(&path) {
                Ok(follower) => {
                    self.next_id += 1;
                    self.followed.push(Followed {
                        id: self.next_id,
                        source,
                        display: path.display().to_string(),
                        follower,
                        record: None,
                        parser: None,
                        rotated_since: None,
                        last_data: Instant::now(),
                        undetected_at: None,
                    });
                }
                Err(error) => {
                    self.skipped.insert(key, size);
                    self.notices.push(Notice::ReadFailed {
                        path: path.display().to_string(),
                        error,
                    });
                }
            }
        }
        let mut i = 0;
        while i < self.followed.len() {
            if self.followed[i].record.is_none() {
                if let Err(keep) = self.start(i, first) {
                    if !keep {
                        let f = self.followed.remove(i);
                        let size = f.follower.size().unwrap_or(0);
                        self.skipped.insert(f.follower.dev_ino(), size);
                        continue;
                    }
                }
            }
            i += 1;
        }
    }

    /// Looks for truncation and rotation of one followed file.
    fn check(&mut self, i: usize) {
        let f = &mut self.followed[i];
        if f.rotated_since.is_some() {
            return;
        }
        match f.follower.check() {
            Ok(Change::Same) => {}
            Ok(Change::Truncated) => {
                f.follower.restart();
                f.record = None;
                f.parser = None;
                self.notices.push(Notice::Truncated {
                    path: f.display.clone(),
                });
            }
            Ok(Change::RotatedAway) => {
                f.rotated_since = Some(Instant::now());
                self.notices.push(Notice::RotatedAway {
                    path: f.display.clone(),
                });
            }
            Err(error) => self.notices.push(Notice::ReadFailed {
                path: f.display.clone(),
                error,
            }),
        }
    }

    /// Decides where a newly seen file starts. `Err(true)`: not yet (first line unfinished, or
    /// the database busy); `Err(false)`: never (skip the file).
    fn start(&mut self, i: usize, first_scan: bool) -> Result<(), bool> {
        let f = &mut self.followed[i];
        let fail = |notices: &mut Vec<Notice>, path: &str, error: io::Error| {
            notices.push(Notice::ReadFailed {
                path: path.to_string(),
                error,
            });
            Err(false)
        };
        // One read of the start serves the gzip check, the fingerprint and format detection.
        let head = match f.follower.head(HEAD_BYTES) {
            Ok(h) => h,
            Err(e) => return fail(&mut self.notices, &f.display, e),
        };
        if is_gzip(&head) {
            self.notices.push(Notice::Skipped {
                path: f.display.clone(),
                why: "gzip-compressed: rotated copies are read with `logtally import`".into(),
            });
            return Err(false);
        }
        let Some(fingerprint) = f.follower.identify(&head) else {
            return Err(true);
        };
        if f.parser.is_none() {
            let size = f.follower.size().unwrap_or(0);
            if f.undetected_at == Some(size) {
                return Err(true);
            }
            let source = &self.sources[f.source];
            match resolve_format(&source.choice, &head) {
                Ok(format) => {
                    let parse = ParseSettings {
                        site: source.site.clone().or_else(|| self.parse.site.clone()),
                        ..self.parse.clone()
                    };
                    f.parser = Some(parse.parser(format));
                }
                Err(why) => {
                    if f.undetected_at.is_none() {
                        self.notices.push(Notice::Skipped {
                            path: f.display.clone(),
                            why: why.to_string(),
                        });
                    }
                    f.undetected_at = Some(size);
                    return Err(true);
                }
            }
        }
        // Lines read but not committed would be read again under this file's record (a
        // copytruncate copy continues the record of the file it copies): commit them first.
        if !self.pending.is_empty() && self.flush().is_err() {
            return Err(true);
        }
        let candidates = match files::candidates(&self.store.conn, fingerprint) {
            Ok(c) => c,
            Err(_) => return Err(true),
        };
        let size = self.followed[i].follower.size().unwrap_or(0);
        let held: Vec<i64> = self.followed.iter().filter_map(|o| o.record).collect();
        let f = &mut self.followed[i];
        // An unreadable marker counts as a mismatch (new content), as a short file does.
        let marker_at = |offset, len| Ok(f.follower.marker_at(offset, len).ok().flatten());
        let continued = resume::continued(size, candidates, marker_at).unwrap_or(None);
        if let Some(c) = continued {
            if held.contains(&c.id) {
                // Followed under another name: a copy of it (copytruncate's copy may appear
                // before the truncation is seen), so never read twice. While nothing of it is
                // committed the marker cannot tell a copy from another file with the same first
                // line: look again after the next commit.
                return Err(c.offset == 0);
            }
            if let Err(e) = f.follower.start_at(c.offset, c.lines + 1) {
                return fail(&mut self.notices, &f.display, e);
            }
            self.notices.push(Notice::Following {
                path: f.display.clone(),
                offset: c.offset,
                resumed: c.offset > 0,
            });
            f.record = Some(c.id);
            return Ok(());
        }
        let Ok(record) = files::create(
            &self.store.conn,
            &f.display,
            fingerprint,
            Some(f.follower.dev_ino()),
            false,
        ) else {
            return Err(true);
        };
        if held.contains(&record.id) {
            // Another followed file with the same first line and nothing committed yet.
            return Err(true);
        }
        let (mut offset, mut line) = (record.offset, record.lines + 1);
        if first_scan && self.settings.from_end && record.offset == 0 {
            match f.follower.end_of_last_line() {
                Ok((end, lines)) if end > 0 => {
                    let marker = f
                        .follower
                        .marker_at(end, crate::source::identity::MARKER_BYTES as u32)
                        .ok()
                        .flatten()
                        .unwrap_or((0, 0));
                    if files::skip_to(&self.store.conn, record.id, &f.display, end, lines, marker)
                        .is_err()
                    {
                        return Err(true);
                    }
                    (offset, line) = (end, lines + 1);
                }
                Ok(_) => {}
                Err(e) => return fail(&mut self.notices, &f.display, e),
            }
        }
        if let Err(e) = f.follower.start_at(offset, line) {
            return fail(&mut self.notices, &f.display, e);
        }
        self.notices.push(Notice::Following {
            path: f.display.clone(),
            offset,
            resumed: false,
        });
        f.record = Some(record.id);
        Ok(())
    }

    fn drained(&self, f: &Followed) -> bool {
        f.rotated_since.is_some_and(|t| {
            t.elapsed() >= self.settings.drain_idle
                && f.last_data.elapsed() >= self.settings.drain_idle
        }) && f.follower.unread().is_ok_and(|n| n == 0)
    }

    /// Reads every file until nothing is left, the buffer is full or the slice is used up.
    fn read_all(&mut self, stop: &AtomicBool) {
        let started = Instant::now();
        let now = now_ms();
        loop {
            let mut got = false;
            for i in 0..self.followed.len() {
                if self.pending_rows >= 2 * self.settings.batch_rows {
                    return;
                }
                // A file rewritten since the last look must not be read on as if appended to.
                self.check(i);
                let finish = self.drained(&self.followed[i]);
                let f = &mut self.followed[i];
                let (Some(record), Some(parser)) = (&f.record, &f.parser) else {
                    continue;
                };
                match f.follower.read(READ_BUDGET, finish) {
                    Ok(Some(chunk)) => {
                        got = true;
                        f.last_data = Instant::now();
                        let mut parsed = parser.parse(&chunk);
                        self.live
                            .lock()
                            .expect("live map lock")
                            .observe(&mut parsed, now);
                        self.pending_rows += parsed.rows.len();
                        self.pending.push(Pending {
                            follower: f.id,
                            record: *record,
                            path: f.display.clone(),
                            chunk: parsed,
                            read_at: Instant::now(),
                        });
                    }
                    Ok(None) => {}
                    Err(error) => self.notices.push(Notice::ReadFailed {
                        path: f.display.clone(),
                        error,
                    }),
                }
            }
            if !got || started.elapsed() >= READ_SLICE || stop.load(Ordering::Relaxed) {
                return;
            }
        }
    }

    /// Commits the buffer in one transaction.
    pub fn flush(&mut self) -> Result<(), CommitError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.salts_ahead();
        let items: Vec<(&ParsedChunk, Progress<'_>)> = self
            .pending
            .iter()
            .map(|p| {
                (
                    &p.chunk,
                    Progress {
                        file_id: p.record,
                        path: &p.path,
                    },
                )
            })
            .collect();
        match self
            .writer
            .commit_all(&mut self.store.conn, &items, &self.parse.salts)
        {
            Ok(()) => {
                let oldest = self.pending.iter().map(|p| p.read_at).min();
                self.status.last_lag = oldest.map_or(Duration::ZERO, |t| t.elapsed());
                for p in &self.pending {
                    self.status.lines += p.chunk.lines;
                    self.status.rows += p.chunk.rows.len() as u64;
                }
                self.pending.clear();
                self.pending_rows = 0;
                if let Some(since) = self.failing_since.take() {
                    self.notices.push(Notice::CommitRecovered {
                        after_seconds: since.elapsed().as_secs(),
                    });
                    self.last_failure_notice = None;
                }
                let _ = self.checkpoint("PASSIVE");
                self.idle_checkpointed = false;
                self.last_activity = Instant::now();
                Ok(())
            }
            Err(e) => {
                self.failing_since.get_or_insert_with(Instant::now);
                if matches!(e, CommitError::Moved { .. }) {
                    self.resync();
                }
                if self
                    .last_failure_notice
                    .is_none_or(|t| t.elapsed() >= FAILURE_NOTICE_EVERY)
                {
                    self.last_failure_notice = Some(Instant::now());
                    self.notices.push(Notice::CommitFailed {
                        error: crate::store::describe_write_error(&e),
                        pending_rows: self.pending_rows,
                    });
                }
                Err(e)
            }
        }
    }

    /// Another process committed lines of a file we read (an `import` of the same file): drop
    /// what we read of such files and read them again from their committed offsets.
    fn resync(&mut self) {
        // Each file's first pending chunk starts where its record stood when it was read.
        let mut first_start: HashMap<i64, u64> = HashMap::new();
        for p in &self.pending {
            first_start.entry(p.record).or_insert(p.chunk.start_offset);
        }
        let stale: HashMap<i64, FileRecord> = first_start
            .into_iter()
            .filter_map(|(id, start)| {
                let rec = files::get(&self.store.conn, id).ok().flatten()?;
                (rec.offset != start).then_some((id, rec))
            })
            .collect();
        self.pending.retain(|p| !stale.contains_key(&p.record));
        self.pending_rows = self.pending.iter().map(|p| p.chunk.rows.len()).sum();
        for f in &mut self.followed {
            if let Some(rec) = f.record.and_then(|id| stale.get(&id)) {
                let _ = f.follower.start_at(rec.offset, rec.lines + 1);
            }
        }
    }

    /// Closes rotated-away files read to their end, once their lines are committed.
    fn close_drained(&mut self) {
        let committed: Vec<u64> = self.pending.iter().map(|p| p.follower).collect();
        let mut i = 0;
        while i < self.followed.len() {
            let f = &self.followed[i];
            if self.drained(f) && !f.follower.has_partial() && !committed.contains(&f.id) {
                let f = self.followed.remove(i);
                self.notices.push(Notice::Closed { path: f.display });
                continue;
            }
            i += 1;
        }
    }

    fn checkpoint(&self, mode: &str) -> rusqlite::Result<()> {
        self.store
            .conn
            .query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(()))
    }

    /// Truncates the WAL once nothing was written for a while.
    fn checkpoint_when_idle(&mut self) {
        if !self.idle_checkpointed
            && self.pending.is_empty()
            && self.last_activity.elapsed() >= IDLE_CHECKPOINT
        {
            self.idle_checkpointed = self.checkpoint("TRUNCATE").is_ok();
        }
    }
}
