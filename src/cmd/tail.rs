//! `logtally tail`: follow access logs as the web server writes them, under systemd or by hand.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sd_notify::NotifyState;

use super::args::{count_flag, duration_flag, IngestArgs};
use crate::classify::rate::{RateLimiter, RateSettings};
use crate::config;
use crate::exit::{ExitCode, TempFailError, UsageError};
use crate::ingest::discover::{self, SourceSpec};
use crate::ingest::follow::{Follow, FollowSettings};
use crate::ingest::notice::{Notice, Status};
use crate::live::socket;
use crate::live::state::{LiveSettings, LiveState};
use crate::output::thousands;
use crate::settings::Settings;
use crate::source::paths::Pattern;

/// Where a file never seen before starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum From {
    /// Read its whole history.
    Start,
    /// Skip what is in it at start-up (files appearing later are read whole).
    End,
}

/// Arguments of `logtally tail`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    logtally tail /var/log/nginx/access.log\n  \
    logtally tail --site example.com '/var/log/caddy/*.log'\n  \
    logtally tail --from end --flush-interval 2s /var/log/nginx/access.log\n\n\
    Quote globs so the shell does not expand them: new files matching them are followed too.\n\
    Each file resumes at the offset committed last time; a file never seen is read from its start\n\
    (--from end to skip its history). Rotation by rename, copytruncate or delete + recreate loses\n\
    and repeats no line; a file renamed while tail was stopped is found in its folder by content\n\
    and read to its end. Named pipes are refused: they have no offset to resume at.\n\
    SIGTERM/SIGINT commit what was read and exit 0; SIGHUP reopens the files.\n\
    Under systemd (Type=notify) it reports READY, WATCHDOG and STATUS; see contrib/systemd.\n\n\
    Exit status: 0 stopped by a signal, 1 error, 2 bad usage, 75 the database stayed locked at exit.")]
pub struct Args {
    #[command(flatten)]
    ingest: IngestArgs,
    /// Where a file never seen before starts [default: start, or tail.from].
    #[arg(long, value_enum)]
    from: Option<From>,
    /// Commit at least this often (500ms, 5s, 1m; 100ms to 1h) [default: 5s, or
    /// tail.flush_interval].
    #[arg(long, value_name = "DURATION", value_parser = duration_flag(&config::TAIL_FLUSH_INTERVAL))]
    flush_interval: Option<Duration>,
    /// Commit as soon as this many hits are waiting (1 to 1000000) [default: 10000, or
    /// tail.batch_size].
    #[arg(long, value_name = "ROWS", value_parser = count_flag(&config::TAIL_BATCH_SIZE))]
    batch_size: Option<u64>,
    /// Poll the files instead of using inotify (network file systems).
    #[arg(long)]
    poll: bool,
    /// How often to poll (10ms to 1h) [default: 250ms, or tail.poll_interval].
    #[arg(long, value_name = "DURATION", value_parser = duration_flag(&config::TAIL_POLL_INTERVAL))]
    poll_interval: Option<Duration>,
    /// How long a renamed or deleted file must stay idle before it is closed (100ms to 24h)
    /// [default: 5s, or tail.drain_idle].
    #[arg(long, value_name = "DURATION", value_parser = duration_flag(&config::TAIL_DRAIN_IDLE))]
    drain_idle: Option<Duration>,
    /// Visitors seen within this time count as "on the site now" for `logtally live` (1s to
    /// 24h) [default: 5m, or live.window].
    #[arg(long, value_name = "DURATION", value_parser = duration_flag(&config::LIVE_WINDOW))]
    live_window: Option<Duration>,
    /// A visitor making more requests than this in a minute is flagged as a bot at once (1 to
    /// 100000) [default: 60, or bots.max_per_minute].
    #[arg(long, value_name = "N", value_parser = count_flag(&config::BOTS_MAX_PER_MINUTE))]
    live_rate: Option<u64>,
    /// Unix socket serving the live view [default: <db>.live.sock, or live.socket].
    #[arg(long, value_name = "PATH")]
    live_socket: Option<PathBuf>,
    /// Also serve GET /live.json over HTTP on this loopback address (e.g. 127.0.0.1:8123).
    #[arg(long, value_name = "ADDR")]
    live_http: Option<SocketAddr>,
    /// Log files or quoted glob patterns to follow [default: the config file's [[source]]s].
    #[arg(value_name = "PATH_OR_GLOB")]
    paths: Vec<String>,
}
/// Writes log lines: plain with a timestamp on a terminal or file, and with a syslog priority
/// prefix but no timestamp under journald (which adds its own).
struct Log {
    journal: bool,
}

impl Log {
    fn new() -> Log {
        Log {
            journal: std::env::var_os("JOURNAL_STREAM").is_some(),
        }
    }

    fn line(&self, priority: u8, msg: &str) {
        if self.journal {
            eprintln!("<{priority}>{msg}");
        } else {
            let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
            eprintln!("{now} logtally: {msg}");
        }
    }

    fn info(&self, msg: &str) {
        self.line(6, msg);
    }

    fn warn(&self, msg: &str) {
        self.line(4, msg);
    }

    fn error(&self, msg: &str) {
        self.line(3, msg);
    }

    fn notice(&self, n: Notice) {
        match n {
            Notice::Following {
                path,
                offset,
                resumed: true,
            } => self.info(&format!("following {path} from byte {offset} (resumed)")),
            Notice::Following { path, offset, .. } => {
                self.info(&format!("following {path} from byte {offset}"))
            }
            Notice::Skipped { path, why } => self.warn(&format!("not following {path}: {why}")),
            Notice::Truncated { path } => {
                self.info(&format!("{path} was truncated or rewritten; reading it from the start"))
            }
            Notice::RotatedAway { path } => self.info(&format!(
                "{path} was rotated; reading the old file to its end"
            )),
            Notice::DrainingRenamed { path, was, offset } => self.info(&format!(
                "{was} was renamed to {path} since it was last read; reading it from byte {offset} to its end"
            )),
            Notice::Closed { path } => {
                self.info(&format!("finished the rotated-away file that was {path}"))
            }
            Notice::ReadFailed { path, error } => {
                self.error(&format!("cannot read {path}: {error}"))
            }
            Notice::CommitFailed {
                error,
                pending_rows,
            } => self.error(&format!(
                "cannot commit to the database: {error}; {} hits kept in memory and retried, reading paused while the buffer is full (repeated at most once a minute)",
                thousands(pending_rows as u64)
            )),
            Notice::CommitRecovered { after_seconds } => self.info(&format!(
                "the database takes writes again after {after_seconds} s; nothing was lost"
            )),
            Notice::Polling { why } => self.warn(&why),
        }
    }
}

/// The watchdog interval systemd asks for: `WATCHDOG_USEC`, when `WATCHDOG_PID` is this process
/// or unset (as sd_watchdog_enabled(3) reads them).
fn watchdog_usec() -> Option<u64> {
    let usec = std::env::var("WATCHDOG_USEC").ok()?.parse::<u64>().ok()?;
    match std::env::var("WATCHDOG_PID") {
        Ok(pid) if pid.parse::<u32>().ok() != Some(std::process::id()) => None,
        _ => Some(usec).filter(|u| *u > 0),
    }
}

/// systemd's watchdog and status, when run by it.
struct Systemd {
    watchdog_every: Option<Duration>,
    last_ping: Instant,
    last_status: Instant,
    last_lines: u64,
}

impl Systemd {
    fn new() -> Systemd {
        let watchdog_every = watchdog_usec().map(|usec| Duration::from_micros(usec / 2));
        Systemd {
            watchdog_every,
            last_ping: Instant::now(),
            // The first status goes out at once.
            last_status: Instant::now()
                .checked_sub(Duration::from_secs(5))
                .unwrap_or_else(Instant::now),
            last_lines: 0,
        }
    }

    fn tick(&mut self, status: &Status) {
        if let Some(every) = self.watchdog_every {
            if self.last_ping.elapsed() >= every {
                let _ = sd_notify::notify(false, &[NotifyState::Watchdog]);
                self.last_ping = Instant::now();
            }
        }
        let elapsed = self.last_status.elapsed();
        if elapsed >= Duration::from_secs(5) {
            let rate = (status.lines - self.last_lines) as f64 / elapsed.as_secs_f64();
            let text = format!(
                "{} files, {} lines/s, lag {} ms, {} hits waiting{}",
                status.files,
                thousands(rate as u64),
                status.last_lag.as_millis(),
                thousands(status.pending_rows as u64),
                if status.failing {
                    ", database refusing writes"
                } else {
                    ""
                }
            );
            let _ = sd_notify::notify(false, &[NotifyState::Status(&text)]);
            self.last_status = Instant::now();
            self.last_lines = status.lines;
        }
    }
}

/// What to follow: the paths given, read with the flags' format and site, else the configured
/// sources.
fn resolve_sources(args: &Args, settings: &Settings) -> Result<Vec<SourceSpec>> {
    if !args.paths.is_empty() {
        let choice = args.ingest.format.choice()?;
        return args
            .paths
            .iter()
            .map(|p| {
                Ok(SourceSpec {
                    pattern: Pattern::new(p).map_err(|e| UsageError(e.to_string()))?,
                    choice: choice.clone(),
                    site: args.ingest.site.clone(),
                })
            })
            .collect();
    }
    let configured = settings.sources();
    if configured.is_empty() {
        return Err(UsageError(
            "no logs to follow: give PATH_OR_GLOB, or add a [[source]] to the config file (see `logtally config example`)".into(),
        )
        .into());
    }
    configured
        .iter()
        .map(|s| {
            let (choice, site) = args.ingest.read_as(s)?;
            Ok(SourceSpec {
                pattern: Pattern::new(&s.path).map_err(|e| UsageError(e.to_string()))?,
                choice,
                site,
            })
        })
        .collect()
}

/// Runs `logtally tail`.
pub fn run(args: Args, settings: &Settings, config: Option<&Path>) -> Result<ExitCode> {
    let log = Log::new();
    let sources = resolve_sources(&args, settings)?;
    discover::refuse_pipes(&sources).map_err(|e| UsageError(e.to_string()))?;
    let (db, mut store, parse, sink) = super::open_for_ingest(&args.ingest, settings)?;
    // Short waits keep the loop answering signals; a busy database is retried, not fatal.
    store.conn().busy_timeout(Duration::from_millis(1000))?;
    // A long-running process: a small page cache (import's 32 MB buys nothing at tail rates).
    store.set_cache_kib(8_000)?;
    let live_settings = LiveSettings {
        window_ms: args.live_window.unwrap_or(settings.live.window).as_millis() as i64,
    };
    let limiter = RateLimiter::new(RateSettings {
        max_per_minute: args
            .live_rate
            .map_or(settings.bots.max_per_minute, |n| n as u32),
        history_ms: live_settings.history_ms(),
    });
    let live = Arc::new(Mutex::new(LiveState::new(live_settings)));
    let socket_path = match args.live_socket.clone().or(settings.live.socket.clone()) {
        Some(p) => p,
        None => socket::default_path(&db),
    };
    let _socket = socket::serve_unix(&socket_path, live.clone())?;

    let stop = Arc::new(AtomicBool::new(false));
    let reopen = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, stop.clone()).context("installing signal handlers")?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGHUP, reopen.clone())
        .context("installing signal handlers")?;

    let tail = &settings.tail;
    let follow_settings = FollowSettings {
        flush_interval: args.flush_interval.unwrap_or(tail.flush_interval),
        batch_rows: args.batch_size.unwrap_or(tail.batch_size) as usize,
        from_end: args.from.map_or(tail.from_end, |f| f == From::End),
        poll: args.poll || tail.poll,
        poll_interval: args
            .poll_interval
            .unwrap_or(tail.poll_interval)
            .max(Duration::from_millis(10)),
        drain_idle: args.drain_idle.unwrap_or(tail.drain_idle),
    };
    let mut follow = Follow::new(
        &mut store,
        sink,
        parse,
        follow_settings,
        sources,
        limiter,
        live.clone(),
    );
    let http = args.live_http.or(settings.live.http);
    if let Some(addr) = http {
        // The address bound, so `127.0.0.1:0` shows the port the system chose.
        let bound = crate::serve::live::spawn(addr, live, follow.metrics())?;
        log.info(&format!(
            "serving http://{bound}/live.json and http://{bound}/metrics"
        ));
    }
    log.info(&format!(
        "writing to {}, live view on {}",
        db.display(),
        socket_path.display()
    ));
    let mut systemd = Systemd::new();
    let mut ready = false;
    // SIGHUP rereads the config file: new sources take effect (paths given as arguments stay).
    let mut reload = || -> Option<Vec<SourceSpec>> {
        let fresh = match Settings::load(config) {
            Ok(s) => s,
            Err(e) => {
                log.error(&format!("keeping the old configuration: {e}"));
                return None;
            }
        };
        match resolve_sources(&args, &fresh) {
            Ok(s) => {
                log.info("reopened the logs and reread the configuration");
                Some(s)
            }
            Err(e) => {
                log.error(&format!("keeping the old sources: {e:#}"));
                None
            }
        }
    };
    let result = follow.run(&stop, &reopen, &mut reload, &mut |f| {
        for n in f.take_notices() {
            log.notice(n);
        }
        if !ready {
            let _ = sd_notify::notify(false, &[NotifyState::Ready]);
            ready = true;
        }
        systemd.tick(&f.status());
    });
    let _ = sd_notify::notify(false, &[NotifyState::Stopping]);
    for n in follow.take_notices() {
        log.notice(n);
    }
    let status = follow.status();
    match result {
        Ok(()) => {
            log.info(&format!(
                "stopped; {} lines committed in this run",
                thousands(status.lines)
            ));
            Ok(ExitCode::Success)
        }
        Err(e) => Err(TempFailError(format!(
            "stopped with {} hits not committed ({e}); they are read again at the next start",
            thousands(status.pending_rows as u64)
        ))
        .into()),
    }
}
