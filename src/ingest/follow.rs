//! The `tail` run loop: when to look for files ([`super::discover`]), start them
//! ([`super::followed`]), read them, commit what was read ([`super::buffer`]), close drained
//! ones and truncate the WAL, answering signals within [`STOP_CHECK`].
//!
//! Everything read is committed in one transaction every flush interval or batch size, events
//! and offsets together, so a crash loses nothing that a restart will not read again and counts
//! nothing twice. Reading pauses while the buffer is full (backpressure).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::buffer::Buffer;
use super::discover::{self, SourceSpec};
use super::followed::{Followed, NotYet};
use super::notice::{Notice, Status};
use super::pipeline::ParseSettings;
use crate::classify::rate::RateLimiter;
use crate::classify::visitor::DayClock;
use crate::clock::now_ms;
use crate::live::state::LiveState;
use crate::source::follower::{dev_ino_of, Follower, READ_BUDGET};
use crate::source::watcher::{Watcher, BACKSTOP};
use crate::store::batch::CommitError;
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

/// The follow loop's state.
pub struct Follow<'a> {
    store: &'a mut Store,
    parse: ParseSettings,
    settings: FollowSettings,
    sources: Vec<SourceSpec>,
    followed: Vec<Followed>,
    next_id: u64,
    buffer: Buffer,
    limiter: RateLimiter,
    live: Arc<Mutex<LiveState>>,
    notices: Vec<Notice>,
    /// Files that could not be followed, by device and inode, with their size then (looked at
    /// again once it changes).
    skipped: HashMap<(u64, u64), u64>,
    /// Named pipes already reported.
    pipes_seen: Vec<std::path::PathBuf>,
    /// Whether known files renamed away must still be looked for (at start and after SIGHUP,
    /// until the database answers).
    look_for_renamed: bool,
    clock: DayClock,
    idle_checkpointed: bool,
    last_activity: Instant,
}

/// How long the loop may read before it looks at signals and deadlines again.
const READ_SLICE: Duration = Duration::from_millis(100);
/// Idle time after which the WAL is truncated.
const IDLE_CHECKPOINT: Duration = Duration::from_secs(30);
/// Longest wait between two looks at the stop flag.
const STOP_CHECK: Duration = Duration::from_millis(100);

impl<'a> Follow<'a> {
    /// A loop over `sources`, committing through `sink` with its progress in `store`, flagging
    /// visitors over the request rate with `limiter` and showing what it reads in `live`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: &'a mut Store,
        sink: Box<dyn crate::store::sink::Sink + Send>,
        parse: ParseSettings,
        settings: FollowSettings,
        sources: Vec<SourceSpec>,
        limiter: RateLimiter,
        live: Arc<Mutex<LiveState>>,
    ) -> Follow<'a> {
        let clock = DayClock::new(parse.tz);
        Follow {
            store,
            parse,
            settings,
            sources,
            followed: Vec::new(),
            next_id: 0,
            buffer: Buffer::with_sink(sink),
            limiter,
            live,
            notices: Vec::new(),
            skipped: HashMap::new(),
            pipes_seen: Vec::new(),
            look_for_renamed: true,
            clock,
            idle_checkpointed: true,
            last_activity: Instant::now(),
        }
    }

    /// Notices gathered since the last call.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    /// The figures of what was read and committed, for `/metrics`.
    pub fn metrics(&self) -> std::sync::Arc<crate::metrics::Ingest> {
        self.buffer.metrics()
    }

    /// Counters for a status line.
    pub fn status(&self) -> Status {
        self.buffer.status(self.followed.len())
    }

    fn watcher(&mut self) -> (Watcher, Duration) {
        let dirs = discover::watch_dirs(&self.sources);
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
        self.forget_old_salts();
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
                self.pipes_seen.clear();
                // A file rotated away and not yet drained is found again by content.
                self.look_for_renamed = true;
                (watcher, look_every) = self.watcher();
                self.scan(false);
            }
            let backpressure = self.buffer.rows() >= 2 * self.settings.batch_rows;
            if !backpressure {
                self.read_all(stop);
            }
            if !self.buffer.is_empty() {
                let since = *first_pending.get_or_insert_with(Instant::now);
                let due = self.buffer.rows() >= self.settings.batch_rows
                    || since.elapsed() >= self.settings.flush_interval
                    || self
                        .followed
                        .iter()
                        .any(|f| f.drained(self.settings.drain_idle));
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

    /// Forgets the salts of days long past (a late line reads its day's salt again).
    fn forget_old_salts(&mut self) {
        let today = self.clock.day(now_ms());
        self.parse.salts.forget_before(today - 2);
    }

    /// Adds a file to follow, unless it is followed already or was skipped at its present size.
    fn add(&mut self, path: &std::path::Path, make: impl FnOnce(u64, Follower) -> Followed) {
        let Some(key) = dev_ino_of(path) else {
            return;
        };
        if self.followed.iter().any(|f| f.follower.dev_ino() == key) {
            return;
        }
        // A glob matching the database's own files (see `discover::store_files`).
        if discover::store_files(self.store.path()).contains(&key) {
            return;
        }
        let size = std::fs::metadata(path).map_or(0, |m| m.len());
        if self.skipped.get(&key) == Some(&size) {
            return;
        }
        match Follower::open(path) {
            Ok(follower) => {
                self.next_id += 1;
                let f = make(self.next_id, follower);
                self.followed.push(f);
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

    /// Finds new files and starts the ones not started yet (rotation and truncation of followed
    /// files are checked before each read, in `read_all`). At start and after SIGHUP, known
    /// files renamed away from the patterns come first, drained from their committed offsets.
    fn scan(&mut self, first: bool) {
        if self.look_for_renamed {
            let avoid = discover::store_files(self.store.path());
            if let Ok(renamed) = discover::renamed_away(self.store.conn(), &self.sources, &avoid) {
                self.look_for_renamed = false;
                for r in renamed {
                    let was = r.record.path.clone();
                    self.add(&r.path, |id, follower| {
                        Followed::renamed(id, r.source, follower, was)
                    });
                }
            }
        }
        for pipe in discover::pipes(&self.sources) {
            if !self.pipes_seen.contains(&pipe) {
                self.notices.push(Notice::Skipped {
                    path: pipe.display().to_string(),
                    why: "a named pipe (FIFO) has no offset to resume at after a stop; have the server write to a file".into(),
                });
                self.pipes_seen.push(pipe);
            }
        }
        for (source, path) in discover::named(&self.sources) {
            let display = path.display().to_string();
            self.add(&path, |id, follower| {
                Followed::named(id, source, follower, display)
            });
        }
        let mut i = 0;
        while i < self.followed.len() {
            if self.followed[i].record.is_none() {
                if let Err(NotYet::Never) = self.start(i, first) {
                    let f = self.followed.remove(i);
                    let size = f.follower.size().unwrap_or(0);
                    self.skipped.insert(f.follower.dev_ino(), size);
                    continue;
                }
            }
            i += 1;
        }
    }

    /// Decides where a newly seen file starts.
    fn start(&mut self, i: usize, first_scan: bool) -> Result<(), NotYet> {
        let f = &mut self.followed[i];
        let fingerprint = f.identify(&self.sources[f.source], &self.parse, &mut self.notices)?;
        // Lines read but not committed would be read again under this file's record (a
        // copytruncate copy continues the record of the file it copies): commit them first.
        if !self.buffer.is_empty() && self.flush().is_err() {
            return Err(NotYet::Later);
        }
        let held: Vec<i64> = self.followed.iter().filter_map(|o| o.record).collect();
        let f = &mut self.followed[i];
        let from_end = first_scan && self.settings.from_end && f.rotated_since.is_none();
        f.place(
            self.store.conn(),
            fingerprint,
            &held,
            from_end,
            &mut self.notices,
        )
    }

    /// Reads every file until nothing is left, the buffer is full or the slice is used up.
    fn read_all(&mut self, stop: &AtomicBool) {
        let started = Instant::now();
        let now = now_ms();
        loop {
            let mut got = false;
            for i in 0..self.followed.len() {
                if self.buffer.rows() >= 2 * self.settings.batch_rows {
                    return;
                }
                let f = &mut self.followed[i];
                // A file rewritten since the last look must not be read on as if appended to.
                f.check(&mut self.notices);
                let finish = f.drained(self.settings.drain_idle);
                let (Some(record), Some(parser)) = (&f.record, &f.parser) else {
                    continue;
                };
                match f.follower.read(READ_BUDGET, finish) {
                    Ok(Some(chunk)) => {
                        got = true;
                        f.last_data = Instant::now();
                        let mut parsed = parser.parse(&chunk);
                        self.limiter.mark(&mut parsed, now);
                        {
                            let mut live = self.live.lock().expect("live map lock");
                            live.set_flagged_by_rate(self.limiter.flagged_total());
                            live.observe(&parsed, now);
                        }
                        self.buffer.push(f.id, *record, &f.display, parsed);
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
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.forget_old_salts();
        match self.buffer.commit(self.store, &mut self.notices) {
            Ok(()) => {
                let _ = self.checkpoint("PASSIVE");
                self.idle_checkpointed = false;
                self.last_activity = Instant::now();
                Ok(())
            }
            Err(refused) => {
                for f in &mut self.followed {
                    if let Some(rec) = f.record.and_then(|id| refused.reread.get(&id)) {
                        let _ = f.follower.start_at(rec.offset, rec.lines + 1);
                    }
                }
                Err(refused.error)
            }
        }
    }

    /// Closes rotated-away files read to their end, once their lines are committed.
    fn close_drained(&mut self) {
        let mut i = 0;
        while i < self.followed.len() {
            let f = &self.followed[i];
            if f.drained(self.settings.drain_idle)
                && !f.follower.has_partial()
                && !self.buffer.holds(f.id)
            {
                let f = self.followed.remove(i);
                self.notices.push(Notice::Closed { path: f.display });
                continue;
            }
            i += 1;
        }
    }

    fn checkpoint(&self, mode: &str) -> rusqlite::Result<()> {
        self.store
            .conn()
            .query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(()))
    }

    /// Truncates the WAL once nothing was written for a while.
    fn checkpoint_when_idle(&mut self) {
        if !self.idle_checkpointed
            && self.buffer.is_empty()
            && self.last_activity.elapsed() >= IDLE_CHECKPOINT
        {
            self.idle_checkpointed = self.checkpoint("TRUNCATE").is_ok();
        }
    }
}
