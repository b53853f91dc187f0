//! Where reports read from: the SQLite database or a ClickHouse store, one set of reads with
//! the same answers from either (`store::reads` for SQLite, `store::clickhouse::reads`).

use chrono::NaiveDate;
use rusqlite::Connection;

use super::clickhouse::{self, ClickHouse};
use super::reads::{
    sqlite_data_range, sqlite_days_with_data, sqlite_ranked, sqlite_sums, Key, Span, Sums,
};
use super::record::{self, Loaded, Stamped};

/// The store reports read.
#[derive(Clone, Copy, Debug)]
pub enum Reader<'a> {
    /// The SQLite database (the default).
    Sqlite(&'a Connection),
    /// A ClickHouse store (`--store clickhouse://...`).
    ClickHouse(&'a ClickHouse),
}

/// A read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// ClickHouse failed or could not be reached.
    #[error(transparent)]
    ClickHouse(#[from] clickhouse::Error),
}

impl<'a> Reader<'a> {
    /// The totals of `span`.
    pub fn sums(self, span: Span<'_>) -> Result<Sums, ReadError> {
        match self {
            Reader::Sqlite(c) => Ok(sqlite_sums(c, span)?),
            Reader::ClickHouse(ch) => Ok(clickhouse::reads::sums(ch, span)?),
        }
    }

    /// The `top` keys of a rollup table over `span` (see `store::reads`).
    pub fn ranked(
        self,
        span: Span<'_>,
        table: &str,
        key: &str,
        numbers: &[&str],
        top: usize,
    ) -> Result<Vec<(Key, Vec<u64>)>, ReadError> {
        match self {
            Reader::Sqlite(c) => Ok(sqlite_ranked(c, span, table, key, numbers, top)?),
            Reader::ClickHouse(ch) => Ok(clickhouse::reads::ranked(
                ch, span, table, key, numbers, top,
            )?),
        }
    }

    /// Days of `span` with rolled-up data.
    pub fn days_with_data(self, span: Span<'_>) -> Result<u64, ReadError> {
        match self {
            Reader::Sqlite(c) => Ok(sqlite_days_with_data(c, span)?),
            Reader::ClickHouse(ch) => Ok(clickhouse::reads::days_with_data(ch, span)?),
        }
    }

    /// The first and last days with rolled-up data.
    pub fn data_range(self) -> Result<Option<(NaiveDate, NaiveDate)>, ReadError> {
        match self {
            Reader::Sqlite(c) => Ok(sqlite_data_range(c)?),
            Reader::ClickHouse(ch) => Ok(clickhouse::reads::data_range(ch)?),
        }
    }

    /// The record's packed days `from..=until` and its strings (`record::load`).
    pub fn record(self, from: i64, until: i64) -> Result<Loaded, ReadError> {
        match self {
            Reader::Sqlite(c) => Ok(record::load(c, from, until)?),
            Reader::ClickHouse(ch) => Ok(clickhouse::reads::load(ch, from, until)?),
        }
    }

    /// The record's days `from..=until`, the data only of those not `known` under their stamp
    /// (`record::load_unless_known`).
    pub fn record_unless_known(
        self,
        from: i64,
        until: i64,
        known: impl Fn(i64, i64) -> bool,
    ) -> Result<Stamped, ReadError> {
        match self {
            Reader::Sqlite(c) => Ok(record::load_unless_known(c, from, until, known)?),
            Reader::ClickHouse(ch) => Ok(clickhouse::reads::load_unless_known(
                ch, from, until, known,
            )?),
        }
    }

    /// Days whose record is held, oldest first.
    pub fn record_days(self) -> Result<Vec<i64>, ReadError> {
        match self {
            Reader::Sqlite(c) => Ok(record::days(c)?),
            Reader::ClickHouse(ch) => Ok(clickhouse::reads::days(ch)?),
        }
    }

    /// The imported days a report over `span` reads, by import (a ClickHouse store holds none).
    pub fn imported(
        self,
        span: Span<'_>,
    ) -> Result<Vec<crate::store::history::ImportedSpan>, ReadError> {
        match self {
            Reader::Sqlite(c) => Ok(crate::store::history::spans(
                c, span.site, span.from, span.until,
            )?),
            Reader::ClickHouse(_) => Ok(Vec::new()),
        }
    }

    /// The SQLite connection, when it is SQLite.
    pub fn sqlite(self) -> Option<&'a Connection> {
        match self {
            Reader::Sqlite(c) => Some(c),
            Reader::ClickHouse(_) => None,
        }
    }
}
