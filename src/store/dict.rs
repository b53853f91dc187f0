//! Dictionary tables (`sites`, `paths`, `referrers`, `agents`): string -> id, cached in memory,
//! and the names of ids read back.
//!
//! Ids inserted inside a transaction are only real once it commits, so the cache remembers what it
//! added and forgets it on rollback.

use rusqlite::{Connection, OptionalExtension, Transaction};

/// A dictionary table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Table {
    /// `sites(name)`.
    Sites,
    /// `paths(path)`.
    Paths,
    /// `referrers(host, source)`, keyed `host \0 source`.
    Referrers,
    /// `agents(agent)`.
    Agents,
}

/// In-memory string -> id maps for the dictionary tables.
#[derive(Debug, Default)]
pub struct DictCache {
    maps: [foldhash::HashMap<String, i64>; 4],
    added: Vec<(Table, String)>,
}

impl DictCache {
    fn map(&mut self, t: Table) -> &mut foldhash::HashMap<String, i64> {
        &mut self.maps[t as usize]
    }

    /// The id of `key` in `table`, inserting it when new.
    pub fn id(&mut self, tx: &Transaction<'_>, table: Table, key: &str) -> rusqlite::Result<i64> {
        if let Some(id) = self.map(table).get(key) {
            return Ok(*id);
        }
        let (select, insert) = match table {
            Table::Sites => (
                "SELECT id FROM sites WHERE name = ?1",
                "INSERT INTO sites (name) VALUES (?1)",
            ),
            Table::Paths => (
                "SELECT id FROM paths WHERE path = ?1",
                "INSERT INTO paths (path) VALUES (?1)",
            ),
            Table::Agents => (
                "SELECT id FROM agents WHERE agent = ?1",
                "INSERT INTO agents (agent) VALUES (?1)",
            ),
            Table::Referrers => (
                "SELECT id FROM referrers WHERE host = ?1 AND source = ?2 AND utm_medium = ?3
                 AND utm_campaign = ?4 AND utm_content = ?5 AND utm_term = ?6",
                "INSERT INTO referrers (host, source, utm_medium, utm_campaign, utm_content, utm_term)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            ),
        };
        let (a, b, [m, c, t, n]) = crate::model::split_campaign(key);
        let found: Option<i64> = if table == Table::Referrers {
            tx.prepare_cached(select)?
                .query_row((a, b, m, c, t, n), |r| r.get(0))
                .optional()?
        } else {
            tx.prepare_cached(select)?
                .query_row([key], |r| r.get(0))
                .optional()?
        };
        let id = match found {
            Some(id) => id,
            None => {
                if table == Table::Referrers {
                    tx.prepare_cached(insert)?.execute((a, b, m, c, t, n))?;
                } else {
                    tx.prepare_cached(insert)?.execute([key])?;
                }
                self.added.push((table, key.to_owned()));
                tx.last_insert_rowid()
            }
        };
        self.map(table).insert(key.to_owned(), id);
        Ok(id)
    }

    /// The transaction committed: what it added is now permanent.
    pub fn committed(&mut self) {
        self.added.clear();
    }

    /// The transaction rolled back: forget the ids it made.
    pub fn rolled_back(&mut self) {
        for (t, key) in std::mem::take(&mut self.added) {
            self.map(t).remove(&key);
        }
    }
}

/// The name of site `id`, if it exists.
pub fn site_name(conn: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT name FROM sites WHERE id = ?1", [id], |r| r.get(0))
        .optional()
}

/// The path of path `id`, if it exists.
pub fn path(conn: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT path FROM paths WHERE id = ?1", [id], |r| r.get(0))
        .optional()
}

/// The host, source and campaign details of referrer `id`, if it exists.
pub fn referrer(
    conn: &Connection,
    id: i64,
) -> rusqlite::Result<Option<(String, String, [String; 4])>> {
    conn.query_row(
        "SELECT host, source, utm_medium, utm_campaign, utm_content, utm_term FROM referrers WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, [r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?])),
    )
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn ids_are_reused_and_forgotten_on_rollback() {
        let mut store = Store::open_in_memory().unwrap();
        let mut cache = DictCache::default();
        let tx = store.conn.transaction().unwrap();
        let a = cache.id(&tx, Table::Paths, "/a").unwrap();
        assert_eq!(cache.id(&tx, Table::Paths, "/a").unwrap(), a);
        let r = cache
            .id(&tx, Table::Referrers, "google.com\0Google")
            .unwrap();
        tx.commit().unwrap();
        cache.committed();

        let tx = store.conn.transaction().unwrap();
        cache.id(&tx, Table::Paths, "/b").unwrap();
        drop(tx); // rollback
        cache.rolled_back();
        let tx = store.conn.transaction().unwrap();
        let b = cache.id(&tx, Table::Paths, "/b").unwrap();
        tx.commit().unwrap();
        let stored: i64 = store
            .conn
            .query_row("SELECT id FROM paths WHERE path = '/b'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(b, stored, "the id after rollback is the committed one");
        let src: String = store
            .conn
            .query_row("SELECT source FROM referrers WHERE id = ?1", [r], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(src, "Google");
    }
}
