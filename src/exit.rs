//! Exit codes, and the one place that maps an error to one and ends the process.
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | success (also when stdout is a closed pipe, as with `| head`) |
//! | 1    | an error, or `check` found more rejects than allowed |
//! | 2    | bad usage: unknown flag, invalid value, bad format string, a time zone other than the database's |
//! | 75   | temporary failure: the database stayed locked; cron may retry (`EX_TEMPFAIL`) |

use std::io;
use std::process;

/// How the process ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Success.
    Success = 0,
    /// Failure: an error, or a check that did not pass.
    Failure = 1,
    /// Bad usage.
    Usage = 2,
    /// Temporary failure (database busy).
    TempFail = 75,
}

/// An error about how the command was called (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// An error that a retry later may fix (exit 75).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TempFailError(pub String);

/// The exit code for an error chain.
pub fn code_for(err: &anyhow::Error) -> ExitCode {
    for cause in err.chain() {
        if cause.is::<UsageError>()
            || matches!(
                cause.downcast_ref(),
                Some(crate::store::zone::Error::Mismatch(_))
            )
        {
            return ExitCode::Usage;
        }
        if cause.is::<TempFailError>()
            || cause.is::<crate::store::Busy>()
            || matches!(cause.downcast_ref(), Some(crate::store::Error::Busy(_)))
        {
            return ExitCode::TempFail;
        }
        if let Some(e) = cause.downcast_ref::<rusqlite::Error>() {
            if matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ) {
                return ExitCode::TempFail;
            }
        }
        // Behind a transparent wrapper only SQLite's own error shows in the chain.
        if let Some(e) = cause.downcast_ref::<rusqlite::ffi::Error>() {
            if matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) {
                return ExitCode::TempFail;
            }
        }
        if let Some(e) = cause.downcast_ref::<serde_json::Error>() {
            if e.io_error_kind() == Some(io::ErrorKind::BrokenPipe) {
                return ExitCode::Success;
            }
        }
        if let Some(e) = cause.downcast_ref::<io::Error>() {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return ExitCode::Success;
            }
        }
    }
    ExitCode::Failure
}

/// Prints the error chain once (unless it is a broken pipe) and exits with its code.
pub fn finish(result: anyhow::Result<ExitCode>) -> ! {
    let code = match result {
        Ok(code) => code,
        Err(err) => {
            let code = code_for(&err);
            if code != ExitCode::Success {
                eprintln!("logtally: {err:#}");
            }
            code
        }
    };
    process::exit(code as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn maps_error_chains() {
        let pipe: anyhow::Result<()> =
            Err(io::Error::from(io::ErrorKind::BrokenPipe)).context("writing report");
        assert_eq!(code_for(&pipe.unwrap_err()), ExitCode::Success);
        let usage = anyhow::Error::new(UsageError("bad".into())).context("parsing --log-format");
        assert_eq!(code_for(&usage), ExitCode::Usage);
        let busy = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(5), None);
        assert_eq!(
            code_for(&anyhow::Error::new(busy).context("committing")),
            ExitCode::TempFail
        );
        assert_eq!(code_for(&anyhow::anyhow!("other")), ExitCode::Failure);
        let hidden = crate::store::Error::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(5),
            None,
        ));
        assert_eq!(
            code_for(&anyhow::Error::new(hidden).context("rolling up")),
            ExitCode::TempFail,
            "a busy database behind a transparent error"
        );
        let typed = crate::store::Busy {
            path: "x.db".into(),
        };
        assert_eq!(code_for(&anyhow::Error::new(typed)), ExitCode::TempFail);
    }
}
