//! Importing one input: recognise it, skip what is already in the database, then read chunks on a
//! producer thread, parse them in parallel with rayon, and commit them in order on this thread.
//!
//! The three overlap: the producer reads chunk n+1 while the parse threads work on chunk n and the
//! writer commits chunk n-1. Each chunk is handed to the pool as soon as it is read and to the
//! writer as soon as it is parsed (put back in order there), so the writer starts after one chunk
//! and no thread waits for a batch of others to finish.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, sync_channel};
use std::sync::Arc;

use super::chunk_parser::ChunkParser;
use super::resume;
use crate::model::ParsedChunk;
use crate::parse::{detect, Format, FormatChoice};
use crate::source::chunks::ChunkReader;
use crate::source::identity::{self, MARKER_BYTES};
use crate::source::input::{self, is_stdin};
use crate::store::batch::Progress;
use crate::store::files::{self, FileRecord};
use crate::store::sink::Sink;
use crate::store::Store;

/// Chunks read and not yet handed to the writer, per parsing thread, plus [`IN_FLIGHT_EXTRA`]:
/// one being parsed and one parsed ahead per thread, plus one being read and one waiting for the
/// writer. The writer holds a batch more (one chunk for SQLite, the sink's `batch_rows` for
/// ClickHouse). This bounds memory, whatever the file size.
const IN_FLIGHT_PER_THREAD: usize = 2;
/// See [`IN_FLIGHT_PER_THREAD`].
const IN_FLIGHT_EXTRA: usize = 2;

/// Why an input could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Opening or reading failed.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The input.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// A database write failed; nothing past the last commit was recorded.
    #[error("cannot write {path}'s lines to the database: {detail} (nothing after line {committed_line} was recorded, so the next run resumes there)", detail = crate::store::describe_write_error(source))]
    Write {
        /// The input.
        path: String,
        /// Last line committed.
        committed_line: u64,
        /// Why.
        source: crate::store::batch::CommitError,
    },
    /// Looking up the file's identity failed.
    #[error("cannot look up {path} in the database: {source}")]
    Lookup {
        /// The input.
        path: String,
        /// Why.
        source: rusqlite::Error,
    },
    /// `--format auto` found no format that reads the first lines, or only a wrong one.
    #[error("cannot tell the log format of {path}: {why} (try `logtally check` on it)")]
    Undetected {
        /// The input.
        path: String,
        /// Why, and what to pass.
        why: crate::parse::detect::Undetected,
    },
    /// Standard input repeats the first line of an imported file but not its content.
    #[error("{path}: starts like a file imported before ({previous}) but differs from it; import it from a file instead of stdin")]
    AmbiguousStdin {
        /// The input.
        path: String,
        /// The record's path.
        previous: String,
    },
}

/// The outcome for one input.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Summary {
    /// The input's name.
    pub file: String,
    /// The format read (empty when nothing was read).
    pub format: String,
    /// Lines read in this run (hits, rejects and blanks).
    pub lines: u64,
    /// Hits written.
    pub imported: u64,
    /// Lines rejected.
    pub rejected: u64,
    /// Blank lines.
    pub blank: u64,
    /// Lines skipped because an earlier run committed them.
    pub already_imported: u64,
    /// Bytes of an unterminated last line left for the next run.
    pub held_back_bytes: u64,
}

/// Progress shared with a progress bar: bytes read from disk (compressed bytes for gzip) and
/// lines committed.
#[derive(Debug, Default)]
pub struct Counters {
    /// Bytes read from the files.
    pub bytes: AtomicU64,
    /// Lines committed.
    pub lines: AtomicU64,
}

struct Counting<R> {
    inner: R,
    count: Arc<Counters>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The parsing threads: one per core but one, which the writer needs to itself (SQLite inserts
/// are the bottleneck of an import; sharing their core with parsers costs more than it gains).
fn parse_pool() -> &'static rayon::ThreadPool {
    static POOL: std::sync::OnceLock<rayon::ThreadPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let threads = std::env::var("RAYON_NUM_THREADS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(cores.saturating_sub(1).max(1));
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("logtally-parse-{i}"))
            .build()
            .expect("starting parse threads")
    })
}

/// Puts items numbered 0, 1, 2... back in order, whatever order they arrive in.
struct InOrder<T> {
    next: u64,
    waiting: BTreeMap<u64, T>,
}

impl<T> Default for InOrder<T> {
    fn default() -> Self {
        InOrder {
            next: 0,
            waiting: BTreeMap::new(),
        }
    }
}

impl<T> InOrder<T> {
    /// Takes item `seq`.
    fn push(&mut self, seq: u64, item: T) {
        self.waiting.insert(seq, item);
    }

    /// The next item in order, if it has arrived.
    fn pop(&mut self) -> Option<T> {
        let item = self.waiting.remove(&self.next)?;
        self.next += 1;
        Some(item)
    }
}

/// Bytes read ahead for the fingerprint and format detection.
pub(crate) const HEAD_BYTES: usize = 64 * 1024;

/// Reads the start of the input (at most [`HEAD_BYTES`]) without losing it.
fn read_head(reader: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; HEAD_BYTES];
    let mut len = 0;
    while len < HEAD_BYTES {
        match reader.read(&mut head[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(len);
    Ok(head)
}

/// The format for an input: the one given, or the one its first lines read as.
pub(crate) fn resolve_format(
    choice: &FormatChoice,
    head: &[u8],
) -> Result<Format, crate::parse::detect::Undetected> {
    match choice {
        FormatChoice::Fixed(f) => Ok(f.clone()),
        FormatChoice::Auto => {
            // Leave out a last line cut by the head window.
            let whole = memchr::memrchr(b'\n', head).map_or(head, |p| &head[..p]);
            detect(whole.split(|c| *c == b'\n'))
        }
    }
}

/// What every input is parsed with, but the format (chosen per input).
#[derive(Clone)]
pub struct ParseSettings {
    /// `--format` / `--log-format`.
    pub choice: FormatChoice,
    /// `--site`.
    pub site: Option<String>,
    /// Day boundaries.
    pub tz: chrono_tz::Tz,
    /// Day salts.
    pub salts: Arc<crate::classify::Salts>,
    /// Country lookups (`--geoip`).
    pub geoip: Option<Arc<crate::classify::geo::GeoIp>>,
    /// Bot patterns, referrer spam and page rules (built-in, plus the configuration's).
    pub rules: Arc<crate::classify::Rules>,
}

impl ParseSettings {
    /// The parser for one input in `format`.
    pub fn parser(&self, format: Format) -> ChunkParser {
        ChunkParser {
            format,
            site: self.site.clone(),
            tz: self.tz,
            salts: self.salts.clone(),
            geoip: self.geoip.clone(),
            rules: self.rules.clone(),
        }
    }
}

/// Where to start reading an input.
enum Start {
    /// Everything is already in the database (`lines` of them skipped): a gzip or stdin stream
    /// ending before the offset of the record it starts like. (A stream cannot be rewound to try
    /// the other records, so streams keep this older reading of "shorter".)
    Done { lines: u64 },
    /// Resume `record` at its offset; the stream is positioned there.
    Resume { record: FileRecord },
    /// A file never seen: read from 0.
    New,
}

/// Checks a plain file against the records sharing its fingerprint, by the rule `tail` uses too
/// ([`super::resume`]).
fn start_for_file(file: &File, size: u64, candidates: Vec<FileRecord>) -> io::Result<Start> {
    let marker_at = |offset, len| identity::marker_in(file, offset, len);
    Ok(match resume::continued(size, candidates, marker_at)? {
        Some(record) => Start::Resume { record },
        None => Start::New,
    })
}

/// Checks a stream (gzip or stdin) against the record read furthest, consuming it up to that offset.
fn start_for_stream(
    reader: &mut dyn Read,
    candidate: Option<FileRecord>,
) -> io::Result<(Start, bool)> {
    let Some(c) = candidate else {
        return Ok((Start::New, true));
    };
    let mut tail: Vec<u8> = Vec::with_capacity(2 * MARKER_BYTES);
    let mut buf = vec![0u8; 256 * 1024];
    let mut pos = 0u64;
    let mut lines = 0u64;
    while pos < c.offset {
        let want = (c.offset - pos).min(buf.len() as u64) as usize;
        let got = reader.read(&mut buf[..want])?;
        if got == 0 {
            // Ends before the committed offset: a shorter copy, already imported.
            return Ok((
                Start::Done {
                    lines: lines + u64::from(!tail.is_empty() && !tail.ends_with(b"\n")),
                },
                true,
            ));
        }
        lines += memchr::memchr_iter(b'\n', &buf[..got]).count() as u64;
        tail.extend_from_slice(&buf[..got]);
        if tail.len() > MARKER_BYTES {
            tail.drain(..tail.len() - MARKER_BYTES);
        }
        pos += got as u64;
    }
    let m = identity::marker(&tail[tail.len() - (c.marker_len as usize).min(tail.len())..]);
    if m == (c.marker_len, c.marker) {
        Ok((Start::Resume { record: c }, true))
    } else {
        // Consumed and not a match: the caller must reopen (or give up on stdin).
        Ok((Start::New, false))
    }
}

/// Imports one input (a path, or `-` for stdin), reporting progress to `counter`. The summary
/// counts what was committed, also when an error stopped the import part-way (a full disk after
/// 100,000 committed lines still reports them).
pub fn import(
    store: &mut Store,
    sink: &mut (dyn Sink + Send),
    settings: &ParseSettings,
    path: &Path,
    counter: &Arc<Counters>,
) -> (Summary, Result<(), Error>) {
    let mut summary = Summary {
        file: input::display_path(path).display().to_string(),
        ..Default::default()
    };
    let result = import_into(store, sink, settings, path, counter, &mut summary);
    (summary, result)
}

fn import_into<'w>(
    store: &'w mut Store,
    sink: &'w mut (dyn Sink + Send),
    settings: &ParseSettings,
    path: &Path,
    counter: &Arc<Counters>,
    summary: &mut Summary,
) -> Result<(), Error> {
    let display = summary.file.clone();
    let read_err = |source: io::Error| Error::Read {
        path: display.clone(),
        source,
    };
    let lookup_err = |source: rusqlite::Error| Error::Lookup {
        path: display.clone(),
        source,
    };

    let opened = input::open(path).map_err(read_err)?;
    let gzip = opened.gzip;
    let stream = is_stdin(path) || gzip;
    let plain = opened
        .file
        .as_ref()
        .filter(|_| !gzip)
        .map(|f| f.try_clone())
        .transpose()
        .map_err(read_err)?;
    let dev_ino = opened
        .file
        .as_ref()
        .and_then(|f| f.metadata().ok())
        .map(|m| (m.dev(), m.ino()));
    let mut reader: Box<dyn Read + Send> = Box::new(Counting {
        inner: opened.reader,
        count: counter.clone(),
    });

    let head = read_head(&mut reader).map_err(read_err)?;
    let fingerprint = match identity::fingerprint(&head) {
        Some(f) => f,
        None if head.is_empty() => return Ok(()),
        // A finished stream whose only line lacks a newline: fingerprint what there is.
        None if stream => identity::marker(&head).1,
        None => {
            summary.held_back_bytes = head.len() as u64;
            return Ok(());
        }
    };
    let format = resolve_format(&settings.choice, &head).map_err(|why| Error::Undetected {
        path: display.clone(),
        why,
    })?;
    summary.format = format.name().to_string();
    let parser = &settings.parser(format);
    let candidates = files::candidates(store.conn(), fingerprint).map_err(lookup_err)?;

    let (start, mut reader): (Start, Box<dyn Read + Send>) = if let Some(file) = &plain {
        let size = file.metadata().map_err(read_err)?.len();
        match start_for_file(file, size, candidates).map_err(read_err)? {
            Start::Resume { record } => {
                let mut f = file.try_clone().map_err(read_err)?;
                f.seek(SeekFrom::Start(record.offset)).map_err(read_err)?;
                counter.bytes.fetch_add(
                    record.offset.saturating_sub(head.len() as u64),
                    Ordering::Relaxed,
                );
                (
                    Start::Resume { record },
                    Box::new(Counting {
                        inner: f,
                        count: counter.clone(),
                    }),
                )
            }
            other => (other, Box::new(Cursor::new(head).chain(reader))),
        }
    } else {
        let mut chained: Box<dyn Read + Send> = Box::new(Cursor::new(head).chain(reader));
        let best = candidates.into_iter().next();
        let previous = best.as_ref().map(|b| b.path.clone()).unwrap_or_default();
        match start_for_stream(&mut chained, best).map_err(read_err)? {
            (start, true) => (start, chained),
            (_, false) if is_stdin(path) => {
                return Err(Error::AmbiguousStdin {
                    path: display,
                    previous,
                })
            }
            (_, false) => {
                let reopened = input::open(path).map_err(read_err)?;
                (Start::New, Box::new(reopened.reader))
            }
        }
    };

    let record = match start {
        Start::Done { lines } => {
            summary.already_imported = lines;
            return Ok(());
        }
        Start::Resume { record } => {
            summary.already_imported = record.lines;
            record
        }
        Start::New => files::create(
            store.conn(),
            &display,
            fingerprint,
            dev_ino.filter(|_| !stream),
            gzip,
        )
        .map_err(lookup_err)?,
    };

    let chunks = ChunkReader::new(&mut reader, record.offset, record.lines + 1, stream);
    let progress = Progress {
        file_id: record.id,
        path: &display,
    };
    let mut committed_line = record.lines;
    let pool = parse_pool();
    let in_flight = pool.current_num_threads() * IN_FLIGHT_PER_THREAD + IN_FLIGHT_EXTRA;
    let result: Result<u64, Error> = std::thread::scope(|scope| {
        // A permit per chunk read and not yet committed: the producer waits when all are out.
        let (permit, permits) = sync_channel::<()>(in_flight);
        let (parsed_tx, parsed_rx) = channel::<(u64, ParsedChunk)>();
        let producer = scope.spawn(move || -> io::Result<u64> {
            let mut chunks = chunks;
            let (spare_tx, spare_rx) = channel::<Vec<u8>>();
            pool.in_place_scope(|parsing| {
                for seq in 0.. {
                    if permit.send(()).is_err() {
                        return Ok(0); // the writer stopped; its error is reported
                    }
                    while let Ok(buf) = spare_rx.try_recv() {
                        chunks.recycle(buf);
                    }
                    let Some(chunk) = chunks.next_chunk()? else {
                        return Ok(chunks.held_back());
                    };
                    let (parsed_tx, spare_tx) = (parsed_tx.clone(), spare_tx.clone());
                    parsing.spawn(move |_| {
                        let parsed = parser.parse(&chunk);
                        let _ = spare_tx.send(chunk.data);
                        let _ = parsed_tx.send((seq, parsed));
                    });
                }
                unreachable!("chunks are counted in u64")
            })
        });
        // Chunks come back in any order; commit them in file order, as many at once as the
        // sink likes its batches (one each for SQLite; ClickHouse wants large inserts).
        let mut in_order = InOrder::default();
        let batch_rows = sink.batch_rows();
        let mut held: Vec<ParsedChunk> = Vec::new();
        let mut held_rows = 0;
        // What a commit of `held` gives back: its result, the chunks, and the writer's halves.
        type Committed<'s> = (
            Result<(), crate::store::batch::CommitError>,
            Vec<ParsedChunk>,
            &'s mut (dyn Sink + Send),
            &'s mut Store,
        );
        let run = |sink: &'w mut (dyn Sink + Send),
                   store: &'w mut Store,
                   held: Vec<ParsedChunk>|
         -> Committed<'w> {
            let batch: Vec<(&ParsedChunk, Progress<'_>)> =
                held.iter().map(|c| (c, progress.clone())).collect();
            let result = sink.commit(store, &batch);
            drop(batch);
            (result, held, sink, store)
        };
        // Counts a committed batch, or turns its failure into the import's error.
        let mut settle =
            |done: Committed<'w>| -> Result<(&'w mut (dyn Sink + Send), &'w mut Store), Error> {
                let (result, held, sink, store) = done;
                result.map_err(|source| Error::Write {
                    path: display.clone(),
                    committed_line,
                    source,
                })?;
                for chunk in held {
                    committed_line = chunk.last_line;
                    counter.lines.fetch_add(chunk.lines, Ordering::Relaxed);
                    summary.lines += chunk.lines;
                    summary.imported += chunk.rows.len() as u64;
                    summary.rejected += chunk.tally.rejected;
                    summary.blank += chunk.tally.blank;
                }
                Ok((sink, store))
            };
        // A sink that likes large batches (ClickHouse) sends one while the next is parsed: one
        // batch in flight at most, and the next sent only once it is acknowledged.
        let mut writer = Some((sink, store));
        let mut in_flight: Option<std::thread::ScopedJoinHandle<'_, Committed<'w>>> = None;
        for (seq, parsed) in parsed_rx {
            in_order.push(seq, parsed);
            while let Some(chunk) = in_order.pop() {
                // Held here now: the reader may read the next one.
                let _ = permits.recv();
                held_rows += chunk.rows.len();
                held.push(chunk);
                if held_rows >= batch_rows {
                    if let Some(sent) = in_flight.take() {
                        writer = Some(settle(sent.join().expect("commit thread"))?);
                    }
                    let (sink, store) = writer.take().expect("the writer is back");
                    let batch = std::mem::take(&mut held);
                    held_rows = 0;
                    if batch_rows == 0 {
                        writer = Some(settle(run(sink, store, batch))?);
                    } else {
                        in_flight = Some(scope.spawn(move || run(sink, store, batch)));
                    }
                }
            }
        }
        if let Some(sent) = in_flight.take() {
            writer = Some(settle(sent.join().expect("commit thread"))?);
        }
        if !held.is_empty() {
            let (sink, store) = writer.take().expect("the writer is back");
            settle(run(sink, store, held))?;
        }
        producer
            .join()
            .expect("reader thread")
            .map_err(|source| Error::Read {
                path: display.clone(),
                source,
            })
    });
    summary.held_back_bytes = result?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_parsed_out_of_order_are_committed_in_order() {
        let mut q = InOrder::default();
        q.push(2, "c");
        assert_eq!(q.pop(), None, "0 has not arrived");
        q.push(0, "a");
        assert_eq!(q.pop(), Some("a"));
        assert_eq!(q.pop(), None, "1 has not arrived");
        q.push(1, "b");
        assert_eq!((q.pop(), q.pop(), q.pop()), (Some("b"), Some("c"), None));
    }
}
