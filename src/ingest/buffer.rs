//! The rows `tail` read and has not committed yet, and their commit: all of them in one
//! transaction with their files' new offsets, so an offset only moves once its events are in.
//! When the database refuses the write (busy, locked, full), everything is kept and retried
//! later; the loop stops reading while the buffer is full, so memory stays bounded and no line
//! is dropped. When another process committed lines of the same file meanwhile, the chunks of
//! that file are dropped and the file is read again from the offset now committed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::notice::{Notice, Status};
use crate::metrics;
use crate::model::ParsedChunk;
use crate::store::batch::{CommitError, Progress, Writer};
use crate::store::files::{self, FileRecord};
use crate::store::sink::Sink;
use crate::store::Store;

/// How often a failing commit is reported.
const FAILURE_NOTICE_EVERY: Duration = Duration::from_secs(60);

/// A parsed chunk waiting for its commit.
struct Pending {
    /// The followed file it was read from.
    follower: u64,
    /// Its `files.id`.
    record: i64,
    /// The path to commit with it.
    path: String,
    chunk: ParsedChunk,
    read_at: Instant,
}

/// A commit that did not happen; the rows are still buffered, but those of `reread`.
#[derive(Debug)]
pub struct Refused {
    /// Why.
    pub error: CommitError,
    /// Records another process advanced: their chunks were dropped, and their files must be read
    /// again from the offset and line given.
    pub reread: HashMap<i64, FileRecord>,
}

/// Rows read and not yet committed, with the counters of what was committed.
pub struct Buffer {
    sink: Box<dyn Sink + Send>,
    pending: Vec<Pending>,
    rows: usize,
    failing_since: Option<Instant>,
    last_failure_notice: Option<Instant>,
    committed: Status,
    metrics: Arc<metrics::Ingest>,
}

impl Default for Buffer {
    fn default() -> Buffer {
        Buffer::with_sink(Box::new(Writer::new()))
    }
}

impl Buffer {
    /// An empty buffer committing to the SQLite database.
    pub fn new() -> Buffer {
        Buffer::default()
    }

    /// An empty buffer committing through `sink`.
    pub fn with_sink(sink: Box<dyn Sink + Send>) -> Buffer {
        Buffer {
            sink,
            pending: Vec::new(),
            rows: 0,
            failing_since: None,
            last_failure_notice: None,
            committed: Status::default(),
            metrics: Arc::default(),
        }
    }

    /// Holds `chunk`, read from followed file `follower` whose record is `record`, to be
    /// committed under `path`.
    pub fn push(&mut self, follower: u64, record: i64, path: &str, chunk: ParsedChunk) {
        self.rows += chunk.rows.len();
        self.metrics.read(&chunk);
        self.metrics.waiting(self.rows);
        self.pending.push(Pending {
            follower,
            record,
            path: path.to_string(),
            chunk,
            read_at: Instant::now(),
        });
    }

    /// The figures of what was read and committed, for `/metrics`.
    pub fn metrics(&self) -> Arc<metrics::Ingest> {
        self.metrics.clone()
    }

    /// Rows waiting.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Whether chunks of followed file `follower` wait.
    pub fn holds(&self, follower: u64) -> bool {
        self.pending.iter().any(|p| p.follower == follower)
    }

    /// The counters, with `files` followed.
    pub fn status(&self, files: usize) -> Status {
        Status {
            pending_rows: self.rows,
            files,
            failing: self.failing_since.is_some(),
            ..self.committed.clone()
        }
    }

    /// Commits everything in one transaction.
    /// Pushes a notice when commits start failing (then at most once a minute) and when they
    /// work again.
    pub fn commit(&mut self, store: &mut Store, notices: &mut Vec<Notice>) -> Result<(), Refused> {
        if self.pending.is_empty() {
            return Ok(());
        }
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
        let started = Instant::now();
        match self.sink.commit(store, &items) {
            Ok(()) => {
                let took = started.elapsed();
                let oldest = self.pending.iter().map(|p| p.read_at).min();
                self.committed.last_lag = oldest.map_or(Duration::ZERO, |t| t.elapsed());
                self.metrics.committed(
                    self.pending.iter().map(|p| &p.chunk),
                    took.as_secs_f64(),
                    self.committed.last_lag.as_secs_f64(),
                );
                for p in &self.pending {
                    self.committed.lines += p.chunk.lines;
                    self.committed.rows += p.chunk.rows.len() as u64;
                }
                self.pending.clear();
                self.rows = 0;
                if let Some(since) = self.failing_since.take() {
                    notices.push(Notice::CommitRecovered {
                        after_seconds: since.elapsed().as_secs(),
                    });
                    self.last_failure_notice = None;
                }
                Ok(())
            }
            Err(error) => {
                self.metrics.commit_failed(self.rows);
                self.failing_since.get_or_insert_with(Instant::now);
                let reread = if matches!(error, CommitError::Moved { .. }) {
                    self.drop_moved(store.conn())
                } else {
                    HashMap::new()
                };
                if self
                    .last_failure_notice
                    .is_none_or(|t| t.elapsed() >= FAILURE_NOTICE_EVERY)
                {
                    self.last_failure_notice = Some(Instant::now());
                    notices.push(Notice::CommitFailed {
                        error: crate::store::describe_write_error(&error),
                        pending_rows: self.rows,
                    });
                }
                Err(Refused { error, reread })
            }
        }
    }

    /// Another process committed lines of a file we read (an `import` of the same file): drops
    /// what we read of such files and returns their records as committed now.
    fn drop_moved(&mut self, conn: &Connection) -> HashMap<i64, FileRecord> {
        // Each file's first pending chunk starts where its record stood when it was read.
        let mut first_start: HashMap<i64, u64> = HashMap::new();
        for p in &self.pending {
            first_start.entry(p.record).or_insert(p.chunk.start_offset);
        }
        let stale: HashMap<i64, FileRecord> = first_start
            .into_iter()
            .filter_map(|(id, start)| {
                let rec = files::get(conn, id).ok().flatten()?;
                (rec.offset != start).then_some((id, rec))
            })
            .collect();
        self.pending.retain(|p| !stale.contains_key(&p.record));
        self.rows = self.pending.iter().map(|p| p.chunk.rows.len()).sum();
        stale
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Salts;
    use crate::ingest::chunk_parser::ChunkParser;
    use crate::source::chunks::Chunk;
    use crate::source::identity;
    use crate::store::Store;
    use std::sync::Arc;

    const LINE: &str =
        "1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] \"GET /a HTTP/1.1\" 200 5 \"-\" \"Firefox\"\n";

    /// `n` lines parsed as the chunk from `start` of a file.
    fn parsed(parser: &ChunkParser, start: u64, first_line: u64, n: usize) -> ParsedChunk {
        let data = LINE.repeat(n).into_bytes();
        parser.parse(&Chunk {
            end_offset: start + data.len() as u64,
            data,
            start_offset: start,
            first_line,
            lines: n as u64,
            too_long: None,
        })
    }

    fn events(conn: &Connection) -> u64 {
        conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap()
    }

    fn new_record(conn: &Connection, path: &str) -> FileRecord {
        let fingerprint = identity::fingerprint(format!("{path}\n").as_bytes()).unwrap();
        files::create(conn, path, fingerprint, None, false).unwrap()
    }

    #[test]
    fn offsets_move_with_their_events_only() {
        let mut store = Store::open_in_memory().unwrap();
        let parser = ChunkParser::for_tests(Arc::new(Salts::default()));
        let record = new_record(store.conn(), "a.log");
        let mut buffer = Buffer::new();
        buffer.push(1, record.id, "a.log", parsed(&parser, 0, 1, 3));
        let second = LINE.len() as u64 * 3;
        buffer.push(1, record.id, "a.log", parsed(&parser, second, 4, 2));
        assert_eq!(
            (buffer.rows(), buffer.holds(1), buffer.holds(2)),
            (5, true, false)
        );
        let before = files::get(store.conn(), record.id).unwrap().unwrap();
        assert_eq!(
            (before.offset, events(store.conn())),
            (0, 0),
            "nothing before the commit"
        );

        let mut notices = vec![];
        buffer.commit(&mut store, &mut notices).unwrap();
        let after = files::get(store.conn(), record.id).unwrap().unwrap();
        assert_eq!((after.offset, after.lines), (LINE.len() as u64 * 5, 5));
        assert_eq!(events(store.conn()), 5);
        assert!(buffer.is_empty() && notices.is_empty());
        let status = buffer.status(1);
        assert_eq!((status.lines, status.rows, status.pending_rows), (5, 5, 0));
    }

    /// A store that refuses its first batch (a remote one not answering), then takes them.
    struct RefusesOnce {
        refused: bool,
        writer: Writer,
        batches: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Sink for RefusesOnce {
        fn commit(
            &mut self,
            store: &mut Store,
            chunks: &[(&ParsedChunk, Progress<'_>)],
        ) -> Result<(), CommitError> {
            if !self.refused {
                self.refused = true;
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
                    Some("the store did not answer".into()),
                )
                .into());
            }
            self.batches
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Sink::commit(&mut self.writer, store, chunks)
        }
    }

    #[test]
    fn a_sink_that_refuses_a_batch_leaves_the_offset_and_gets_the_batch_again() {
        let mut store = Store::open_in_memory().unwrap();
        let parser = ChunkParser::for_tests(Arc::new(Salts::default()));
        let record = new_record(store.conn(), "a.log");
        let batches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut buffer = Buffer::with_sink(Box::new(RefusesOnce {
            refused: false,
            writer: Writer::new(),
            batches: batches.clone(),
        }));
        buffer.push(1, record.id, "a.log", parsed(&parser, 0, 1, 3));
        let mut notices = vec![];
        assert!(buffer.commit(&mut store, &mut notices).is_err());
        let kept = files::get(store.conn(), record.id).unwrap().unwrap();
        assert_eq!(
            (kept.offset, events(store.conn()), buffer.rows()),
            (0, 0, 3)
        );
        assert_eq!(notices.len(), 1, "the failure is told: {notices:?}");
        buffer.commit(&mut store, &mut notices).unwrap();
        let after = files::get(store.conn(), record.id).unwrap().unwrap();
        assert_eq!((after.offset, after.lines), (LINE.len() as u64 * 3, 3));
        assert_eq!(events(store.conn()), 3, "the batch once, not twice");
        assert_eq!(batches.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    #[test]
    fn a_busy_database_keeps_the_buffer_until_it_takes_the_commit() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("logtally.db");
        let mut store = Store::open(&db).unwrap();
        store
            .conn()
            .busy_timeout(Duration::from_millis(10))
            .unwrap();
        let parser = ChunkParser::for_tests(Arc::new(Salts::default()));
        let record = new_record(store.conn(), "a.log");
        let mut buffer = Buffer::new();
        buffer.push(1, record.id, "a.log", parsed(&parser, 0, 1, 4));

        let other = Connection::open(&db).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let mut notices = vec![];
        for _ in 0..3 {
            let refused = buffer.commit(&mut store, &mut notices).unwrap_err();
            assert!(refused.reread.is_empty(), "{refused:?}");
        }
        assert_eq!(buffer.rows(), 4, "rows kept");
        assert!(buffer.status(1).failing);
        let offset = files::get(store.conn(), record.id).unwrap().unwrap().offset;
        assert_eq!(offset, 0, "the offset stays with its uncommitted events");
        assert!(
            matches!(
                notices[..],
                [Notice::CommitFailed {
                    pending_rows: 4,
                    ..
                }]
            ),
            "reported once: {notices:?}"
        );

        other.execute_batch("ROLLBACK").unwrap();
        notices.clear();
        buffer.commit(&mut store, &mut notices).unwrap();
        assert!(
            matches!(notices[..], [Notice::CommitRecovered { .. }]),
            "{notices:?}"
        );
        assert_eq!(events(store.conn()), 4);
        let after = files::get(store.conn(), record.id).unwrap().unwrap();
        assert_eq!(after.offset, LINE.len() as u64 * 4);
        assert!(!buffer.status(1).failing);
    }

    #[test]
    fn lines_another_process_committed_are_dropped_and_reread() {
        let mut store = Store::open_in_memory().unwrap();
        let parser = ChunkParser::for_tests(Arc::new(Salts::default()));
        let (a, b) = (
            new_record(store.conn(), "a.log"),
            new_record(store.conn(), "b.log"),
        );
        let mut buffer = Buffer::new();
        buffer.push(1, a.id, "a.log", parsed(&parser, 0, 1, 2));
        buffer.push(2, b.id, "b.log", parsed(&parser, 0, 1, 3));
        // An import commits a.log's first line meanwhile.
        let one = LINE.len() as u64;
        files::skip_to(store.conn(), a.id, "a.log", one, 1, (0, 0)).unwrap();

        let mut notices = vec![];
        let refused = buffer.commit(&mut store, &mut notices).unwrap_err();
        assert!(matches!(refused.error, CommitError::Moved { .. }));
        let reread: Vec<_> = refused.reread.values().map(|r| (r.id, r.offset)).collect();
        assert_eq!(reread, [(a.id, one)]);
        assert_eq!(
            (buffer.holds(1), buffer.holds(2), buffer.rows()),
            (false, true, 3)
        );
        buffer.commit(&mut store, &mut notices).unwrap();
        assert_eq!(events(store.conn()), 3, "b.log's lines, once");
    }
}
