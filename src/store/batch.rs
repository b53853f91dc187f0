//! The batch writer: one transaction per parsed chunk, holding its events, new dictionary strings,
//! reject counts and the file's new offset, so a crash at any point leaves the
//! database either before or after the whole chunk: never a line lost, never one counted twice.

use rusqlite::{Connection, TransactionBehavior};

use super::dict::{DictCache, Table};
use super::files;
pub use super::files::AdvanceError as CommitError;
use crate::model::{ParsedChunk, Row, NONE};

/// Rows per multi-row `INSERT` statement (15 parameters each, well under SQLite's limit).
const ROWS_PER_INSERT: usize = 256;
/// Reject samples kept per file and reason.
pub const SAMPLES_PER_FILE_REASON: i64 = 10;

/// The columns an insert names. Most logs have no request time and most imports no GeoIP
/// database, so a run of rows with neither leaves those two columns to their default (NULL):
/// two values fewer to bind and copy per row, for the same stored rows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Every column.
    Full,
    /// All but `duration_us` and `country`.
    Lean,
}

impl Shape {
    /// The shape that holds every row of `rows`.
    fn of(rows: &[Row]) -> Shape {
        if rows.iter().all(|r| r.duration_us < 0 && r.country == 0) {
            Shape::Lean
        } else {
            Shape::Full
        }
    }

    /// Parameters per row.
    fn params(self) -> usize {
        match self {
            Shape::Full => 15,
            Shape::Lean => 13,
        }
    }

    /// `INSERT` of `rows` rows.
    fn sql(self, rows: usize) -> String {
        let columns =
            "ts, site, path, referrer, agent, visitor, status, bytes, method, kind, bot, origin, traits";
        let (extra, values) = match self {
            Shape::Full => (", duration_us, country", "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
            Shape::Lean => ("", "(?,?,?,?,?,?,?,?,?,?,?,?,?)"),
        };
        let mut sql = format!("INSERT INTO events ({columns}{extra}) VALUES ");
        for i in 0..rows {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(values);
        }
        sql
    }
}

/// The statements' text, built once, indexed by `Shape as usize`: [`ROWS_PER_INSERT`] rows, and
/// one row.
static INSERTS: std::sync::LazyLock<[[String; 2]; 2]> = std::sync::LazyLock::new(|| {
    [Shape::Full, Shape::Lean].map(|s| [s.sql(ROWS_PER_INSERT), s.sql(1)])
});

/// Where the file stands after a chunk.
#[derive(Clone, Debug)]
pub struct Progress<'a> {
    /// `files.id`.
    pub file_id: i64,
    /// Path to record.
    pub path: &'a str,
}

/// Milliseconds per `event_spans` bucket.
pub const BUCKET_MS: i64 = 900_000;

/// Writes parsed chunks.
#[derive(Default)]
pub struct Writer {
    cache: DictCache,
    generation: Option<i64>,
}

/// Per bucket of a chunk's rows: (bucket, first row index, last row index, rows), in row order.
/// Rows are in time order within a log, so runs are long; a bucket may recur (late lines).
fn bucket_runs(rows: &[Row]) -> foldhash::HashMap<i64, (usize, usize, i64)> {
    let mut out: foldhash::HashMap<i64, (usize, usize, i64)> = Default::default();
    for (i, r) in rows.iter().enumerate() {
        let b = r.ts.div_euclid(BUCKET_MS);
        let e = out.entry(b).or_insert((i, i, 0));
        e.1 = i;
        e.2 += 1;
    }
    out
}

fn opt_id(map: &[i64], local: u32) -> Option<i64> {
    (local != NONE).then(|| map[local as usize])
}

impl Writer {
    /// A writer with an empty cache.
    pub fn new() -> Writer {
        Writer {
            cache: DictCache::default(),
            generation: None,
        }
    }

    fn resolve(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        table: Table,
        items: &[String],
    ) -> rusqlite::Result<Vec<i64>> {
        items.iter().map(|s| self.cache.id(tx, table, s)).collect()
    }

    /// Commits one chunk and the file's progress, in one `BEGIN IMMEDIATE` transaction.
    pub fn commit(
        &mut self,
        conn: &mut Connection,
        chunk: &ParsedChunk,
        progress: &Progress<'_>,
    ) -> Result<(), CommitError> {
        self.commit_all(conn, &[(chunk, progress.clone())])
    }

    /// Commits several chunks (of one or more files, each file's in order) with their files'
    /// progress, in one `BEGIN IMMEDIATE` transaction: all of them or none.
    pub fn commit_all(
        &mut self,
        conn: &mut Connection,
        chunks: &[(&ParsedChunk, Progress<'_>)],
    ) -> Result<(), CommitError> {
        self.commit_with(conn, chunks, Rows::Here)
    }

    /// Commits what the SQLite database keeps of `chunks` when their rows went to another
    /// store (which acknowledged them): the sites, the day facts, the rejects and the files'
    /// progress, in one `BEGIN IMMEDIATE` transaction.
    pub fn commit_progress(
        &mut self,
        conn: &mut Connection,
        chunks: &[(&ParsedChunk, Progress<'_>)],
    ) -> Result<(), CommitError> {
        self.commit_with(conn, chunks, Rows::Elsewhere)
    }

    fn commit_with(
        &mut self,
        conn: &mut Connection,
        chunks: &[(&ParsedChunk, Progress<'_>)],
        rows: Rows,
    ) -> Result<(), CommitError> {
        if let Some(e) = chunks.iter().find_map(|(c, _)| c.salt_error.as_ref()) {
            return Err(e.clone().into());
        }
        let result = self.write(conn, chunks, rows);
        match &result {
            Ok(()) => self.cache.committed(),
            Err(_) => self.cache.rolled_back(),
        }
        result
    }

    fn write(
        &mut self,
        conn: &mut Connection,
        chunks: &[(&ParsedChunk, Progress<'_>)],
        rows: Rows,
    ) -> Result<(), CommitError> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Cleanup may have deleted dictionary rows since our ids were cached.
        let generation: i64 = tx
            .prepare_cached("SELECT value FROM meta WHERE key = 'dict_generation'")?
            .query_row([], |r| r.get(0))?;
        if self.generation != Some(generation) {
            self.cache = DictCache::default();
            self.generation = Some(generation);
        }
        for (chunk, progress) in chunks {
            let sites = self.resolve(&tx, Table::Sites, &chunk.sites.items)?;
            if rows == Rows::Here {
                self.write_rows(&tx, chunk, &sites)?;
            }
            record_chunk(&tx, chunk, progress, &sites)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn write_rows(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        chunk: &ParsedChunk,
        sites: &[i64],
    ) -> Result<(), CommitError> {
        let paths = self.resolve(tx, Table::Paths, &chunk.paths.items)?;
        let referrers = self.resolve(tx, Table::Referrers, &chunk.referrers.items)?;
        let agents = self.resolve(tx, Table::Agents, &chunk.agents.items)?;

        let bind = |stmt: &mut rusqlite::CachedStatement<'_>,
                    shape: Shape,
                    base: usize,
                    r: &Row|
         -> rusqlite::Result<()> {
            stmt.raw_bind_parameter(base + 1, r.ts)?;
            stmt.raw_bind_parameter(base + 2, sites[r.site as usize])?;
            stmt.raw_bind_parameter(base + 3, opt_id(&paths, r.path))?;
            stmt.raw_bind_parameter(base + 4, opt_id(&referrers, r.referrer))?;
            stmt.raw_bind_parameter(base + 5, opt_id(&agents, r.agent))?;
            stmt.raw_bind_parameter(base + 6, r.visitor)?;
            stmt.raw_bind_parameter(base + 7, r.status)?;
            stmt.raw_bind_parameter(base + 8, (r.bytes >= 0).then_some(r.bytes))?;
            stmt.raw_bind_parameter(base + 9, r.method)?;
            stmt.raw_bind_parameter(base + 10, r.kind)?;
            stmt.raw_bind_parameter(base + 11, r.bot)?;
            stmt.raw_bind_parameter(base + 12, r.origin)?;
            stmt.raw_bind_parameter(base + 13, r.traits)?;
            if shape == Shape::Full {
                stmt.raw_bind_parameter(base + 14, (r.duration_us >= 0).then_some(r.duration_us))?;
                stmt.raw_bind_parameter(base + 15, (r.country != 0).then_some(r.country))?;
            }
            Ok(())
        };
        // Ids are max+1 upward: we hold the write lock, so the chunk's rows get consecutive ids.
        let first_id: i64 = tx
            .prepare_cached("SELECT coalesce(max(id), 0) + 1 FROM events")?
            .query_row([], |r| r.get(0))?;
        // [shape][many rows, one row], taken from the connection's cache once per chunk.
        let mut inserts = INSERTS
            .iter()
            .map(|[multi, single]| Ok([tx.prepare_cached(multi)?, tx.prepare_cached(single)?]))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut groups = chunk.rows.chunks_exact(ROWS_PER_INSERT);
        for group in &mut groups {
            let shape = Shape::of(group);
            let multi = &mut inserts[shape as usize][0];
            for (i, r) in group.iter().enumerate() {
                bind(multi, shape, i * shape.params(), r)?;
            }
            multi.raw_execute()?;
        }
        for r in groups.remainder() {
            let shape = Shape::of(std::slice::from_ref(r));
            let single = &mut inserts[shape as usize][1];
            bind(single, shape, 0, r)?;
            single.raw_execute()?;
        }
        drop(inserts);

        {
            let mut span = tx.prepare_cached(
                "INSERT INTO event_spans (bucket, min_id, max_id, rows) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (bucket, (first, last, rows)) in bucket_runs(&chunk.rows) {
                span.execute((
                    bucket,
                    first_id + first as i64,
                    first_id + last as i64,
                    rows,
                ))?;
            }
        }
        Ok(())
    }
}

/// Where a chunk's rows go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rows {
    /// Into `events`, with the rest.
    Here,
    /// To another store, which has them already.
    Elsewhere,
}

/// What the database keeps of a chunk beside its rows: the day facts, the rejects with their
/// samples, and the file's progress.
fn record_chunk(
    tx: &rusqlite::Transaction<'_>,
    chunk: &ParsedChunk,
    progress: &Progress<'_>,
    sites: &[i64],
) -> Result<(), CommitError> {
    super::facts::add(tx, chunk, sites)?;
    for (reason, t) in &chunk.tally.reasons {
        tx.prepare_cached(
            "INSERT INTO rejects (file, reason, count) VALUES (?1, ?2, ?3)
                 ON CONFLICT (file, reason) DO UPDATE SET count = count + excluded.count",
        )?
        .execute((progress.file_id, reason.code(), t.count as i64))?;
        for s in &t.samples {
            tx.prepare_cached(
                    "INSERT OR IGNORE INTO reject_samples (file, reason, line, sample)
                     SELECT ?1, ?2, ?3, ?4
                     WHERE (SELECT count(*) FROM reject_samples WHERE file = ?1 AND reason = ?2) < ?5",
                )?
                .execute((progress.file_id, reason.code(), s.line as i64, &s.text, SAMPLES_PER_FILE_REASON))?;
        }
    }
    files::advance(
        tx,
        progress.file_id,
        progress.path,
        chunk.start_offset,
        chunk.end_offset,
        chunk.last_line,
        chunk.marker,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_with_and_without_duration_or_country_store_the_same_either_way() {
        let mut store = Store::open_in_memory().unwrap();
        let mut chunk = ParsedChunk::default();
        chunk.sites.intern("s");
        let row = |i: i64| Row {
            ts: 1_000_000 + i,
            line: i as u64,
            site: 0,
            path: NONE,
            referrer: NONE,
            agent: NONE,
            visitor: i,
            status: 200,
            method: 1,
            kind: 0,
            bot: 0,
            bytes: i,
            duration_us: -1,
            country: 0,
            origin: 7,
            traits: 0,
        };
        // 600 rows: two full groups of 256 and 88 single rows; a duration in the second group
        // and a country among the singles.
        chunk.rows = (0..600).map(row).collect();
        chunk.rows[300].duration_us = 1234;
        chunk.rows[590].country = 0x4445;
        chunk.end_offset = 1;
        chunk.last_line = 600;
        let file = files::create(&store.conn, "a.log", 1, None, false).unwrap();
        Writer::new()
            .commit(
                &mut store.conn,
                &chunk,
                &Progress {
                    file_id: file.id,
                    path: "a.log",
                },
            )
            .unwrap();
        let stored: Vec<(i64, i64, Option<i64>, Option<i64>)> = store
            .conn
            .prepare("SELECT visitor, bytes, duration_us, country FROM events ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let expected: Vec<_> = (0..600)
            .map(|i| {
                let duration = (i == 300).then_some(1234);
                let country = (i == 590).then_some(0x4445);
                (i, i, duration, country)
            })
            .collect();
        assert_eq!(stored, expected);
    }
    use crate::ingest::ChunkParser;
    use crate::source::chunks::Chunk;
    use crate::store::Store;
    use std::sync::Arc;

    #[test]
    fn a_chunk_lands_with_its_offset_and_rejects() {
        let mut store = Store::open_in_memory().unwrap();
        let parser = ChunkParser::for_tests(Arc::new(Default::default()));
        let mut text = String::new();
        for i in 0..150 {
            text.push_str(&format!("10.0.0.{} - - [01/Sep/2022:22:12:45 +0000] \"GET /p{} HTTP/1.1\" 200 5 \"-\" \"UA\"\n", i % 7, i % 3));
        }
        text.push_str("broken line\n");
        let chunk = Chunk {
            first_line: 1,
            lines: 151,
            end_offset: text.len() as u64,
            data: text.into_bytes(),
            ..Default::default()
        };
        let parsed = parser.parse(&chunk);
        let file = files::create(&store.conn, "a.log", 1, None, false).unwrap();
        let mut w = Writer::new();
        w.commit(
            &mut store.conn,
            &parsed,
            &Progress {
                file_id: file.id,
                path: "a.log",
            },
        )
        .unwrap();

        let q = |sql: &str| -> i64 { store.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(q("SELECT count(*) FROM events"), 150);
        assert_eq!(q("SELECT count(DISTINCT visitor) FROM events"), 7);
        assert_eq!(q("SELECT count(*) FROM paths"), 3);
        assert_eq!(
            q("SELECT count FROM rejects WHERE reason = 'no-timestamp'"),
            1
        );
        let rec = files::get(&store.conn, file.id).unwrap().unwrap();
        assert_eq!((rec.offset, rec.lines), (chunk.end_offset, 151));
        let (min, max, rows): (i64, i64, i64) = store
            .conn
            .query_row(
                "SELECT min(min_id), max(max_id), sum(rows) FROM event_spans",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            (min, max, rows),
            (1, 150, 150),
            "the time index covers every row"
        );
    }

    #[test]
    fn a_chunk_whose_salt_was_not_settled_is_not_written() {
        let mut store = Store::open_in_memory().unwrap();
        let mut chunk = ParsedChunk {
            end_offset: 10,
            salt_error: Some(crate::classify::visitor::SaltError {
                day: 1,
                reason: "locked".into(),
                busy: true,
            }),
            ..Default::default()
        };
        chunk.sites.intern("s");
        let file = files::create(&store.conn, "a.log", 1, None, false).unwrap();
        let err = Writer::new()
            .commit(
                &mut store.conn,
                &chunk,
                &Progress {
                    file_id: file.id,
                    path: "a.log",
                },
            )
            .unwrap_err();
        assert_eq!(
            err.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy)
        );
        let rec = files::get(&store.conn, file.id).unwrap().unwrap();
        assert_eq!(rec.offset, 0, "the offset stays where it was");
    }
}
