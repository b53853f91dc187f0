//! The generation of what reports read: one number, raised in the transaction of every write of
//! rollups or of the record. A reader that keeps answers in memory (`serve`) keys them by it, so
//! an answer is never served after a rollup changed what it showed.

use rusqlite::Connection;

/// Raises the generation, inside the writer's transaction.
pub fn bump(conn: &Connection) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE generation SET value = value + 1 WHERE id = 1")?
        .execute([])?;
    Ok(())
}

/// The generation now.
pub fn read(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT value FROM generation WHERE id = 1")?
        .query_row([], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn every_write_of_the_record_raises_it() {
        let mut store = Store::open_in_memory().unwrap();
        let first = read(store.conn()).unwrap();
        let tx = store.conn_mut().transaction().unwrap();
        crate::store::record::replace_day(&tx, 20_000, &[]).unwrap();
        tx.commit().unwrap();
        let second = read(store.conn()).unwrap();
        assert!(second > first);
        crate::store::record::forget_before(store.conn(), 20_001).unwrap();
        assert!(read(store.conn()).unwrap() > second, "forgetting days too");
        crate::store::record::forget_before(store.conn(), 20_001).unwrap();
        assert_eq!(
            read(store.conn()).unwrap(),
            second + 1,
            "nothing forgotten, nothing changed"
        );
    }
}
