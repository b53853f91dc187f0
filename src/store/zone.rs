//! The database's time zone: recorded by the first command that writes, and checked by every
//! command, since a day, a salt and a rollup row only mean something in the zone they were made
//! in (a `rollup` or `stats` in another zone than the `import` moved visitors across days and
//! changed bot verdicts).

use chrono_tz::Tz;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

/// A command brought a time zone other than the database's.
#[derive(Debug, thiserror::Error)]
#[error("the database records its days in the time zone {recorded}, but this command would use {wanted}; pass --tz {recorded} (or set tz = \"{recorded}\" in the configuration, or LOGTALLY_TZ); to change the zone of a database, import its logs again into a new one")]
pub struct Mismatch {
    /// The zone the database was written in.
    pub recorded: String,
    /// The zone the command resolved.
    pub wanted: String,
}

/// Checking the zone failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another zone.
    #[error(transparent)]
    Mismatch(#[from] Mismatch),
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// The recorded zone, if any command has written yet.
pub fn recorded(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT value FROM db_settings WHERE key = 'zone'",
        [],
        |r| r.get(0),
    )
    .optional()
}

/// Whether two zones keep the same clock: the same name, or another name for the same rules
/// (`UTC` and `Etc/UTC`, `Asia/Calcutta` and `Asia/Kolkata`), told by their offsets every three
/// hours from 1970 to 2100. Days, salts and rollups depend on nothing else.
fn same_clock(recorded: &str, tz: Tz) -> bool {
    use chrono::{Offset, TimeZone};
    if recorded == tz.name() {
        return true;
    }
    let Ok(other) = recorded.parse::<Tz>() else {
        return false;
    };
    const STEP_S: i64 = 3 * 3600;
    (0..(130 * 365 * 86_400 / STEP_S)).all(|i| {
        let t = chrono::DateTime::from_timestamp(i * STEP_S, 0)
            .expect("in range")
            .naive_utc();
        other.offset_from_utc_datetime(&t).fix() == tz.offset_from_utc_datetime(&t).fix()
    })
}

fn compare(recorded: Option<String>, tz: Tz) -> Result<(), Error> {
    match recorded {
        Some(r) if !same_clock(&r, tz) => Err(Mismatch {
            recorded: r,
            wanted: tz.name().to_string(),
        }
        .into()),
        _ => Ok(()),
    }
}

/// Refuses `tz` if the database records another zone (for commands that only read).
pub fn check(conn: &Connection, tz: Tz) -> Result<(), Error> {
    compare(recorded(conn)?, tz)
}

/// Records `tz` if no zone is recorded yet, and refuses it if another one is (for commands that
/// write: the check and the record happen under one write lock, so two first writers agree).
pub fn settle(conn: &mut Connection, tz: Tz) -> Result<(), Error> {
    if recorded(conn)?.is_some() {
        return check(conn, tz);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT OR IGNORE INTO db_settings (key, value) VALUES ('zone', ?1)",
        [tz.name()],
    )?;
    let now = recorded(&tx)?;
    tx.commit()?;
    compare(now, tz)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn the_first_writer_records_the_zone_and_others_are_refused() {
        let mut store = Store::open_in_memory().unwrap();
        check(&store.conn, chrono_tz::UTC).expect("nothing recorded yet");
        settle(&mut store.conn, chrono_tz::Europe::Berlin).unwrap();
        settle(&mut store.conn, chrono_tz::Europe::Berlin).expect("the same zone again");
        let err = settle(&mut store.conn, chrono_tz::UTC)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Europe/Berlin") && err.contains("UTC") && err.contains("--tz"),
            "{err}"
        );
        assert!(check(&store.conn, chrono_tz::UTC).is_err());
        assert_eq!(
            recorded(&store.conn).unwrap().as_deref(),
            Some("Europe/Berlin")
        );
    }

    #[test]
    fn another_name_for_the_same_zone_is_the_same_zone() {
        assert!(same_clock("UTC", chrono_tz::Etc::UTC));
        assert!(same_clock("Asia/Calcutta", chrono_tz::Asia::Kolkata));
        assert!(!same_clock("Europe/Berlin", chrono_tz::Europe::London));
        assert!(!same_clock("Europe/Berlin", chrono_tz::Europe::Lisbon));
        assert!(!same_clock("Not/AZone", chrono_tz::UTC));
    }
}
