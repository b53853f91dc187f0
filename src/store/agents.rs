//! The classes of user agents (`agents`: browser, OS, device, named crawler), decided once per
//! distinct agent and read back by rollup.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

/// What an agent was classified as.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentClass {
    /// Browser family.
    pub browser: String,
    /// OS family.
    pub os: String,
    /// Device class.
    pub device: String,
    /// The automated client the agent names, if any.
    pub crawler: Option<String>,
}

/// An agent's classes as stored, with the agent itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentRow {
    /// Browser family (`Other` when not classified).
    pub browser: String,
    /// OS family (`Other` when not classified).
    pub os: String,
    /// Device class (`Other` when not classified).
    pub device: String,
    /// The named crawler, if any.
    pub crawler: Option<String>,
    /// The user agent.
    pub agent: String,
}

/// Agents not classified yet: (id, agent).
pub fn unclassified(conn: &Connection) -> rusqlite::Result<Vec<(i64, String)>> {
    conn.prepare("SELECT id, agent FROM agents WHERE browser IS NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

/// Records the classes `class_of` gives each agent of `batch`, in one transaction.
pub fn record_classes(
    conn: &mut Connection,
    batch: &[(i64, String)],
    mut class_of: impl FnMut(&str) -> AgentClass,
) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut stmt = tx.prepare_cached(
            "UPDATE agents SET browser = ?2, os = ?3, device = ?4, crawler = ?5 WHERE id = ?1",
        )?;
        for (id, ua) in batch {
            let c = class_of(ua);
            stmt.execute((id, &c.browser, &c.os, &c.device, c.crawler))?;
        }
    }
    tx.commit()
}

/// The classes of agent `id`, if it exists.
pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<AgentRow>> {
    conn.query_row("SELECT coalesce(browser, 'Other'), coalesce(os, 'Other'), coalesce(device, 'Other'), crawler, agent FROM agents WHERE id = ?1", [id], |r| {
        Ok(AgentRow {
            browser: r.get(0)?,
            os: r.get(1)?,
            device: r.get(2)?,
            crawler: r.get(3)?,
            agent: r.get(4)?,
        })
    })
    .optional()
}
