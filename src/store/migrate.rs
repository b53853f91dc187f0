//! Schema migrations: numbered SQL files embedded in the binary, applied above `PRAGMA user_version`.

use rusqlite::Connection;

/// The migrations, in order; migration `n` (1-based) brings the schema to `user_version = n`.
pub const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_rollups.sql"),
    include_str!("migrations/0003_country.sql"),
    include_str!("migrations/0004_behaviour.sql"),
    include_str!("migrations/0005_zone.sql"),
    include_str!("migrations/0006_record.sql"),
    include_str!("migrations/0007_record_stamp.sql"),
    include_str!("migrations/0008_generation.sql"),
    include_str!("migrations/0009_history.sql"),
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Why migrating failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database was written by a newer logtally.
    #[error("database schema version {found} is newer than this logtally understands ({SCHEMA_VERSION}); upgrade logtally")]
    TooNew {
        /// The version found.
        found: i64,
    },
    /// The database was written by an older logtally and a reader may not upgrade it.
    #[error("database schema version {found} is older than this logtally's ({SCHEMA_VERSION}); run `logtally rollup` once (as a user who may write the database) to upgrade it")]
    Outdated {
        /// The version found.
        found: i64,
    },
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Applies every migration above the current `user_version`, each in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<i64, Error> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(Error::TooNew { found: current });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Re-check inside the write lock: another process may have migrated meanwhile.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > i as i64 {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(SCHEMA_VERSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_is_idempotent() {
        let mut c = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut c).unwrap(), SCHEMA_VERSION);
        assert_eq!(migrate(&mut c).unwrap(), SCHEMA_VERSION);
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let n: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn days_recorded_before_stamps_each_get_one() {
        let mut c = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..6] {
            c.execute_batch(sql).unwrap();
        }
        c.pragma_update(None, "user_version", 6).unwrap();
        c.execute_batch(
            "INSERT INTO record_days (day, visits, pageviews, data) VALUES (1, 1, 1, x'00'), (2, 1, 1, x'00')",
        )
        .unwrap();
        migrate(&mut c).unwrap();
        let stamps: Vec<i64> = c
            .prepare("SELECT stamp FROM record_days ORDER BY day")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(stamps.len(), 2);
        assert_ne!(stamps[0], stamps[1], "each day its own stamp");
        assert!(stamps.iter().all(|s| *s != 0));
    }

    #[test]
    fn refuses_a_newer_schema() {
        let mut c = Connection::open_in_memory().unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(migrate(&mut c), Err(Error::TooNew { found: 99 })));
    }
}
