//! What the follow loop reports to its caller: notices for the operator's log, and counters for
//! status lines (the loop never logs; Vector's file source reports through one call per event
//! in the same way).

use std::io;
use std::time::Duration;

/// Something the loop wants the operator to know; the caller decides how to log it.
#[derive(Debug)]
pub enum Notice {
    /// Started following a file.
    Following {
        /// The file.
        path: String,
        /// Where reading starts.
        offset: u64,
        /// Whether it continues an earlier run.
        resumed: bool,
    },
    /// A file matched but is not followed.
    Skipped {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
    /// A file was truncated or rewritten: read again from its start.
    Truncated {
        /// The file.
        path: String,
    },
    /// A file was renamed or deleted: its last lines are being drained.
    RotatedAway {
        /// The file.
        path: String,
    },
    /// A known file renamed to a name the patterns do not match (say `access.log` to
    /// `access.log.1`, while `tail` was stopped): its lines after the committed offset are read
    /// before it is closed.
    DrainingRenamed {
        /// Where it is now.
        path: String,
        /// The name it was read under.
        was: String,
        /// Where reading resumes.
        offset: u64,
    },
    /// A rotated-away file was read to its end and closed.
    Closed {
        /// The file.
        path: String,
    },
    /// A file could not be read.
    ReadFailed {
        /// The file.
        path: String,
        /// Why.
        error: io::Error,
    },
    /// Committing failed; the rows are kept and retried. Given at most once a minute.
    CommitFailed {
        /// Why.
        error: String,
        /// Rows waiting.
        pending_rows: usize,
    },
    /// Commits work again after failing.
    CommitRecovered {
        /// Seconds the database refused writes.
        after_seconds: u64,
    },
    /// inotify could not be used.
    Polling {
        /// Why.
        why: String,
    },
}

/// Counters for status lines.
#[derive(Clone, Debug, Default)]
pub struct Status {
    /// Lines committed since start.
    pub lines: u64,
    /// Hits committed since start.
    pub rows: u64,
    /// Rows read and waiting for a commit.
    pub pending_rows: usize,
    /// Files followed.
    pub files: usize,
    /// Time from reading the oldest line of the last commit to that commit.
    pub last_lag: Duration,
    /// Whether commits are failing now.
    pub failing: bool,
}
