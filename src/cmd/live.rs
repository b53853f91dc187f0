//! `logtally live`: who is on the site now, asked from the running `tail` (never the database).

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use super::args::duration_in;
use crate::exit::ExitCode;
use crate::live::socket::{self, Request};
use crate::live::view;
use crate::report;
use crate::settings::Settings;

/// Arguments of `logtally live`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    logtally live\n  \
    logtally live --site example.com --interval 5s\n  \
    logtally live --once --json | jq .visitors\n\n\
    The figures come from the memory of the running `logtally tail` (visitors seen in its\n\
    --live-window, bots left out), through its Unix socket.\n\n\
    Exit status: 0 ok, 1 no tail is running (or it could not be asked).")]
pub struct Args {
    /// Database the tail writes to, to find its socket [default: as for tail].
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// The tail's live socket [default: <db>.live.sock].
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// One site only.
    #[arg(long, value_name = "NAME")]
    site: Option<String>,
    /// Rows per list.
    #[arg(long, value_name = "N", default_value_t = 10)]
    top: usize,
    /// Refresh this often (100ms to 1h).
    #[arg(long, value_name = "DURATION", default_value = "2s",
          value_parser = duration_in(Duration::from_millis(100), Duration::from_secs(3600)))]
    interval: Duration,
    /// Print one snapshot and exit.
    #[arg(long)]
    once: bool,
    /// JSON instead of a table (one object per refresh).
    #[arg(long)]
    json: bool,
}

/// Runs `logtally live`.
pub fn run(args: Args, settings: &Settings) -> Result<ExitCode> {
    let path = match args.socket.clone().or(settings.live.socket.clone()) {
        Some(p) => p,
        None => socket::default_path(&settings.db_path(args.db.as_deref())?),
    };
    let req = Request {
        site: args.site.clone(),
        top: Some(args.top),
    };
    let clear = !args.once && !args.json && io::stdout().is_terminal();
    loop {
        let snap = match socket::fetch(&path, &req) {
            Ok(s) => s,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
                ) =>
            {
                eprintln!(
                    "logtally: no `logtally tail` is serving {} ({e}); start one with `logtally tail ACCESS.LOG` (or `systemctl start logtally`), or pass --socket/--db to point at it",
                    path.display()
                );
                return Ok(ExitCode::Failure);
            }
            Err(e) => {
                eprintln!("logtally: cannot ask the tail at {}: {e}", path.display());
                return Ok(ExitCode::Failure);
            }
        };
        let mut out = io::stdout().lock();
        if args.json {
            report::json::write_pretty(&mut out, &snap)?;
            writeln!(out)?;
        } else {
            if clear {
                write!(out, "\x1b[2J\x1b[H")?;
            }
            write!(out, "{}", view::render(&snap))?;
        }
        out.flush()?;
        drop(out);
        if args.once {
            return Ok(ExitCode::Success);
        }
        std::thread::sleep(args.interval.max(Duration::from_millis(100)));
    }
}
