//! A ClickHouse store for the events of sites whose history outgrows one SQLite file, over
//! ClickHouse's HTTP interface (`--store clickhouse://HOST:8123/DB`).
//!
//! Rows go in batches, `INSERT ... FORMAT RowBinary`, never one row at a time. `events` is a
//! `ReplacingMergeTree` ordered by (site, date, host, file, line): a batch sent again after a
//! crash or a refused answer replaces itself, so delivery is at least once and the result
//! exactly once (reads use `FINAL`). The `file` of the key is the collector's own record of the
//! file (`files.id` in its SQLite database): a collector that lost that database and reads its
//! files again in another order gives them other ids, and their rows count twice, so keep the
//! collector's database as you keep the store. Each row carries its strings, not ids, so
//! several collectors can write to one store. Bots, page kind and visitor are decided before
//! sending, by the same classifier as for SQLite. The file offsets stay in the collector's
//! SQLite database and move only after ClickHouse acknowledged the batch ([`ClickHouseSink`]).
//!
//! The SQL keeps to what ClickHouse 18.16 (Debian's) understands and current releases too: a
//! real `date Date` column in the sorting key (`FINAL` refuses an expression there on 18.16),
//! plain `String` columns (no `LowCardinality`).

pub mod copy;
pub mod events;
pub mod reads;
pub mod retention;
pub mod rollups;
pub mod salts;
pub mod wire;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::batch::{CommitError, Progress, Writer};
use super::sink::Sink;
use super::Store;
use crate::model::{split_campaign, ParsedChunk, NONE};
use wire::Binary;

/// The columns of `events` in the order rows are sent.
const COLUMNS: &str = "date, ts_ms, site, host, file, line, path, referrer_host, referrer_source, \
    utm_medium, utm_campaign, utm_content, utm_term, agent, visitor, status, bytes, method, kind, \
    bot, duration_us, country, origin, traits";

/// Days since 1970-01-01 of a date (a `Date` column's number).
pub fn day_number(day: chrono::NaiveDate) -> i64 {
    (day - chrono::NaiveDate::default()).num_days()
}

/// The date `days` after 1970-01-01.
pub fn date_of(days: i64) -> chrono::NaiveDate {
    chrono::NaiveDate::default() + chrono::Duration::days(days)
}

/// The string of a chunk's local id, empty for none.
fn item(items: &[String], id: u32) -> &str {
    if id == NONE {
        ""
    } else {
        &items[id as usize]
    }
}

/// Rows `import` sends in one insert at least: each insert is a part ClickHouse sorts and later
/// merges, so a few large inserts cost it a fraction of many small ones (a million rows took
/// 5.0 s of its CPU as a hundred inserts, 1.2 s as ten, on 18.16, with no faster import from
/// larger ones). `import` parses the next batch while one is sent; on 10M lines 300,000 rows
/// took 16.0 s and 145 MB, 1,000,000 rows 16.7 s and 401 MB, 100,000 rows (sent without
/// overlap) 19.3 s.
const BATCH_ROWS: usize = 300_000;

/// Time allowed for one request, a batch's insert included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Why ClickHouse could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The address is not `clickhouse://HOST:PORT/DATABASE`.
    #[error("{0:?} is no ClickHouse address: write clickhouse://HOST:PORT/DATABASE (the HTTP port, 8123 by default)")]
    Address(String),
    /// The server could not be reached or refused the request.
    #[error("{store}: {detail}")]
    Request {
        /// The store's address.
        store: String,
        /// What went wrong.
        detail: String,
    },
}

/// A store's address taken apart: `HOST:PORT` and the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    /// `HOST:PORT`, the port 8123 where none was given.
    pub authority: String,
    /// The database's name.
    pub database: String,
}

impl Address {
    /// Checks `url`, `clickhouse://HOST[:PORT]/DATABASE`, without reaching the server.
    pub fn parse(url: &str) -> Result<Address, Error> {
        let bad = || Error::Address(url.to_string());
        let rest = url.strip_prefix("clickhouse://").ok_or_else(bad)?;
        let (authority, database) = rest.split_once('/').ok_or_else(bad)?;
        let database = database.trim_end_matches('/');
        let plain =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if authority.is_empty() || !plain(database) {
            return Err(bad());
        }
        let authority = if authority.contains(':') {
            authority.to_string()
        } else {
            format!("{authority}:8123")
        };
        Ok(Address {
            authority,
            database: database.to_string(),
        })
    }
}

/// A ClickHouse server and database.
#[derive(Clone)]
pub struct ClickHouse {
    /// As given (`clickhouse://127.0.0.1:8123/logtally`).
    url: String,
    /// `http://HOST:PORT/`.
    endpoint: String,
    database: String,
    agent: ureq::Agent,
    /// The server's (major, minor) version, once [`ClickHouse::ensure_schema`] asked it.
    version: Arc<OnceLock<(u32, u32)>>,
}

impl std::fmt::Debug for ClickHouse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

impl ClickHouse {
    /// The store at `url`, `clickhouse://HOST[:PORT]/DATABASE` (port 8123 by default).
    pub fn from_url(url: &str) -> Result<ClickHouse, Error> {
        let Address {
            authority,
            database,
        } = Address::parse(url)?;
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(REQUEST_TIMEOUT))
            .http_status_as_error(false)
            .build()
            .new_agent();
        Ok(ClickHouse {
            url: url.to_string(),
            endpoint: format!("http://{authority}/"),
            database,
            agent,
            version: Arc::default(),
        })
    }

    /// The address as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs `sql` with `body` as its data (for `INSERT ... FORMAT`), returning the answer's bytes.
    fn run_bytes(&self, sql: &str, body: &[u8]) -> Result<Vec<u8>, Error> {
        self.run_bytes_with(sql, &[], body)
    }

    /// Runs `sql` with `settings` (name, value) for this request and `body` as its data.
    fn run_with(&self, sql: &str, settings: &[(&str, &str)], body: &[u8]) -> Result<(), Error> {
        self.run_bytes_with(sql, settings, body).map(drop)
    }

    fn run_bytes_with(
        &self,
        sql: &str,
        settings: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Vec<u8>, Error> {
        // A statement without data goes as the body, where its length has no limit (the
        // server refuses URLs past 16 KiB: a year's days named in one read is longer); with
        // data, the statement goes in the URL and the data as the body.
        let mut request = self.agent.post(&self.endpoint);
        for (name, value) in settings {
            request = request.query(*name, *value);
        }
        let sent = if body.is_empty() {
            request.send(sql.as_bytes())
        } else {
            request.query("query", sql).send(body)
        };
        let mut answer = sent.map_err(|e| self.failed(format!("cannot reach it: {e}")))?;
        let status = answer.status();
        let data = answer
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .map_err(|e| self.failed(format!("cannot read its answer: {e}")))?;
        if !status.is_success() {
            return Err(self.failed(format!(
                "answered {}: {}",
                status.as_u16(),
                String::from_utf8_lossy(&data).trim()
            )));
        }
        Ok(data)
    }

    /// A request to this store that failed for `detail`.
    fn failed(&self, detail: String) -> Error {
        Error::Request {
            store: self.url.clone(),
            detail,
        }
    }

    /// Runs `sql` with `body` as its data, returning the answer as text.
    fn run(&self, sql: &str, body: &[u8]) -> Result<String, Error> {
        let data = self.run_bytes(sql, body)?;
        String::from_utf8(data).map_err(|_| self.failed("answered text that is no UTF-8".into()))
    }

    /// Answers a query `... FORMAT RowBinary` with its rows' bytes.
    pub fn select_binary(&self, sql: &str) -> Result<Vec<u8>, Error> {
        self.run_bytes(&format!("{sql} FORMAT RowBinary"), b"")
    }

    /// Runs a statement that answers nothing (`CREATE`, `INSERT ... VALUES`).
    pub fn execute(&self, sql: &str) -> Result<(), Error> {
        self.run(sql, b"").map(drop)
    }

    /// Inserts `body`, rows in `RowBinary` of `columns`, into `table` of this database.
    pub fn insert_binary(&self, table: &str, columns: &str, body: &[u8]) -> Result<(), Error> {
        self.run(
            &format!(
                "INSERT INTO {}.{table} ({columns}) FORMAT RowBinary",
                self.database
            ),
            body,
        )
        .map(drop)
    }

    /// The database's name.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// Answers a query (`SELECT ...`) as text.
    pub fn query(&self, sql: &str) -> Result<String, Error> {
        self.run(sql, b"")
    }

    /// The server's (major, minor) version; (0, 0) before [`ClickHouse::ensure_schema`].
    pub fn version(&self) -> (u32, u32) {
        self.version.get().copied().unwrap_or((0, 0))
    }

    /// Whether the server takes a deduplication token per insert (22.2 and later), so a batch
    /// sent twice is stored once, not only counted once.
    fn takes_dedup_tokens(&self) -> bool {
        self.version() >= (22, 2)
    }

    /// Creates the database and its tables (events, rollups, record) where they do not exist.
    pub fn ensure_schema(&self) -> Result<(), Error> {
        let db = &self.database;
        let text = self.query("SELECT version()")?;
        let version = parse_version(&text)
            .ok_or_else(|| self.failed(format!("answered {text:?} to version()")))?;
        let _ = self.version.set(version);
        // From 22.2 a non-replicated table drops a block inserted again with the same token,
        // if it keeps a window of recent blocks.
        let dedup = if self.takes_dedup_tokens() {
            " SETTINGS non_replicated_deduplication_window = 1000"
        } else {
            ""
        };
        self.run(&format!("CREATE DATABASE IF NOT EXISTS {db}"), b"")?;
        self.run(
            &format!(
                "CREATE TABLE IF NOT EXISTS {db}.events (
                    date Date,
                    ts_ms Int64,
                    site String,
                    host String,
                    file Int64,
                    line UInt64,
                    path String,
                    referrer_host String,
                    referrer_source String,
                    utm_medium String,
                    utm_campaign String,
                    utm_content String,
                    utm_term String,
                    agent String,
                    visitor Int64,
                    status UInt16,
                    bytes Int64,
                    method UInt8,
                    kind UInt8,
                    bot UInt8,
                    duration_us Int64,
                    country UInt16,
                    origin Int64,
                    traits UInt8
                ) ENGINE = ReplacingMergeTree()
                PARTITION BY toYYYYMM(date)
                ORDER BY (site, date, host, file, line){dedup}"
            ),
            b"",
        )?;
        rollups::ensure_schema(self)?;
        retention::ensure_schema(self)?;
        salts::ensure_schema(self)
    }

    /// Inserts the rows of `chunks` (their files' ids beside them), written by collector
    /// `host`, in one request, as `RowBinary` (ClickHouse's own binary rows: nothing to escape,
    /// and the quickest it reads).
    pub fn insert(&self, host: &str, chunks: &[(&ParsedChunk, i64)]) -> Result<(), Error> {
        let rows: usize = chunks.iter().map(|(c, _)| c.rows.len()).sum();
        if rows == 0 {
            return Ok(());
        }
        let mut body = Vec::with_capacity(rows * 250);
        for (chunk, file) in chunks {
            // Each referrer split once per chunk, not once per row.
            let referrers: Vec<(&str, &str, [&str; 4])> = chunk
                .referrers
                .items
                .iter()
                .map(|k| split_campaign(k))
                .collect();
            for r in &chunk.rows {
                let (rh, rs, utm) = if r.referrer == NONE {
                    ("", "", [""; 4])
                } else {
                    referrers[r.referrer as usize]
                };
                let mut row = Binary(&mut body);
                row.date_of_ms(r.ts);
                row.i64(r.ts);
                row.text(item(&chunk.sites.items, r.site));
                row.text(host);
                row.i64(*file);
                row.u64(r.line);
                row.text(item(&chunk.paths.items, r.path));
                row.text(rh);
                row.text(rs);
                for u in utm {
                    row.text(u);
                }
                row.text(item(&chunk.agents.items, r.agent));
                row.i64(r.visitor);
                row.u16(r.status);
                row.i64(r.bytes);
                row.u8(r.method);
                row.u8(r.kind);
                row.u8(r.bot);
                row.i64(r.duration_us);
                row.u16(r.country);
                row.i64(r.origin);
                row.u8(r.traits);
            }
        }
        let sql = format!(
            "INSERT INTO {}.events ({COLUMNS}) FORMAT RowBinary",
            self.database
        );
        if self.takes_dedup_tokens() {
            let token = dedup_token(host, chunks);
            self.run_with(&sql, &[("insert_deduplication_token", &token)], &body)?;
        } else {
            self.run(&sql, &body)?;
        }
        Ok(())
    }

    /// Events stored, each line once (`FINAL`: a batch sent twice counts once).
    pub fn events(&self) -> Result<u64, Error> {
        let text = self.query(&format!(
            "SELECT count() FROM {}.events FINAL",
            self.database
        ))?;
        text.trim().parse().map_err(|_| Error::Request {
            store: self.url.clone(),
            detail: format!("answered {text:?} to a count"),
        })
    }
}

/// Ingest's sink for ClickHouse: the rows to ClickHouse, then, once it acknowledged them, what
/// the collector keeps (sites, day facts, rejects, files' progress) in its SQLite database.
pub struct ClickHouseSink {
    store: ClickHouse,
    /// The collector's name, part of each row's identity (`hostname` by default).
    host: String,
    writer: Writer,
}

impl ClickHouseSink {
    /// A sink writing to `store` as collector `host`.
    pub fn new(store: ClickHouse, host: String) -> ClickHouseSink {
        ClickHouseSink {
            store,
            host,
            writer: Writer::new(),
        }
    }
}

impl Sink for ClickHouseSink {
    fn commit(
        &mut self,
        store: &mut Store,
        chunks: &[(&ParsedChunk, Progress<'_>)],
    ) -> Result<(), CommitError> {
        if let Some(e) = chunks.iter().find_map(|(c, _)| c.salt_error.as_ref()) {
            return Err(e.clone().into());
        }
        let batch: Vec<(&ParsedChunk, i64)> = chunks.iter().map(|(c, p)| (*c, p.file_id)).collect();
        self.store
            .insert(&self.host, &batch)
            .map_err(|e| CommitError::Remote {
                store: self.store.url().to_string(),
                detail: match e {
                    Error::Request { detail, .. } => detail,
                    other => other.to_string(),
                },
            })?;
        self.writer.commit_progress(store.conn_mut(), chunks)
    }

    fn batch_rows(&self) -> usize {
        BATCH_ROWS
    }
}

/// (major, minor) of a `version()` answer such as `18.16.1` or `24.8.4.13`.
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The token of one batch: its collector and each file's first and last line, which a batch
/// sent again after a crash repeats (the files' progress did not move), and no other batch has;
/// hashed, so that a batch of many files' chunks still fits a URL.
fn dedup_token(host: &str, chunks: &[(&ParsedChunk, i64)]) -> String {
    use siphasher::sip128::Hasher128;
    use std::hash::Hasher;
    let mut hasher = siphasher::sip128::SipHasher13::new();
    for (chunk, file) in chunks {
        if let (Some(first), Some(last)) = (chunk.rows.first(), chunk.rows.last()) {
            hasher.write_i64(*file);
            hasher.write_u64(first.line);
            hasher.write_u64(last.line);
        }
    }
    format!("{host}-{:032x}", hasher.finish128().as_u128())
}

/// This machine's name, for the rows it sends.
pub fn this_host() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_as_major_and_minor() {
        assert_eq!(parse_version("18.16.1\n"), Some((18, 16)));
        assert_eq!(parse_version("24.8.4.13"), Some((24, 8)));
        assert_eq!(parse_version("garbage"), None);
        assert!((22, 2) <= (24, 8) && (18, 16) < (22, 2));
    }

    #[test]
    fn addresses_name_a_host_and_a_plain_database() {
        let ch = ClickHouse::from_url("clickhouse://127.0.0.1/logtally").unwrap();
        assert_eq!(ch.endpoint, "http://127.0.0.1:8123/");
        assert_eq!(ch.database, "logtally");
        let ch = ClickHouse::from_url("clickhouse://db.example:18123/lt_2").unwrap();
        assert_eq!(ch.endpoint, "http://db.example:18123/");
        for bad in [
            "http://127.0.0.1:8123/x",
            "clickhouse://127.0.0.1:8123",
            "clickhouse:///x",
            "clickhouse://h/x;DROP",
        ] {
            assert!(ClickHouse::from_url(bad).is_err(), "{bad}");
        }
    }
}
