//! Where ingest commits what it parsed: one interface for `import` and `tail`, whatever holds
//! the rows. A file's progress (its `files` row, the resume point) always lives in the SQLite
//! database beside the follower, and moves only once the rows before it are stored, so a crash
//! re-sends a batch and never skips one.

use super::batch::{CommitError, Progress, Writer};
use super::Store;
use crate::model::ParsedChunk;

/// Commits parsed chunks with their files' progress.
pub trait Sink {
    /// Stores the rows of `chunks` (of one or more files, each file's in order) and then their
    /// files' progress in `store`: all of them or none.
    fn commit(
        &mut self,
        store: &mut Store,
        chunks: &[(&ParsedChunk, Progress<'_>)],
    ) -> Result<(), CommitError>;

    /// Rows it likes a batch of `import` to hold at least (0: every chunk as it comes).
    fn batch_rows(&self) -> usize {
        0
    }
}

/// SQLite's side: rows and progress in one `BEGIN IMMEDIATE` transaction of the same database.
impl Sink for Writer {
    fn commit(
        &mut self,
        store: &mut Store,
        chunks: &[(&ParsedChunk, Progress<'_>)],
    ) -> Result<(), CommitError> {
        self.commit_all(store.conn_mut(), chunks)
    }
}
