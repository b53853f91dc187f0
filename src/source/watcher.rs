//! Wake-ups for the follower: inotify events on the folders of the followed files (never on the
//! files themselves, which rename away), or plain polling where notify is unavailable (NFS, too
//! many watches) or `--poll` asks for it. Events only say "look now": the caller always stats and
//! reads, and also looks on a timer, so a lost or overflowed event queue loses nothing.

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher as _};

/// What woke the follower.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wake {
    /// A followed folder's entries changed (create, delete, rename) or events were lost: look
    /// for new files and rotations.
    pub names: bool,
    /// Something was written.
    pub data: bool,
}

/// How changes are noticed: inotify events, or nothing (the caller polls).
pub struct Watcher {
    /// The watch and its events; `None` when polling.
    inner: Option<(notify::RecommendedWatcher, Receiver<Wake>)>,
}

/// What an inotify event means for the follower (`None`: nothing to do).
fn wake_for(res: notify::Result<notify::Event>) -> Option<Wake> {
    let all = Wake {
        names: true,
        data: true,
    };
    Some(match res {
        Ok(ev) if ev.need_rescan() => all,
        Ok(ev) => match ev.kind {
            EventKind::Modify(notify::event::ModifyKind::Data(_)) => Wake {
                names: false,
                data: true,
            },
            EventKind::Access(_) => return None,
            _ => all,
        },
        Err(_) => all,
    })
}

impl Watcher {
    /// Watches `dirs` with inotify; with `poll`, or when a watch cannot be set up, falls back to
    /// polling and returns why alongside.
    pub fn new(dirs: &[PathBuf], poll: bool) -> (Watcher, Option<String>) {
        if poll {
            return (Watcher { inner: None }, None);
        }
        match Self::watch(dirs) {
            Ok(inner) => (Watcher { inner: Some(inner) }, None),
            Err(why) => (
                Watcher { inner: None },
                Some(format!("{why}; polling instead")),
            ),
        }
    }

    fn watch(dirs: &[PathBuf]) -> Result<(notify::RecommendedWatcher, Receiver<Wake>), String> {
        let (tx, rx) = channel();
        let mut watcher = notify::recommended_watcher(move |res| {
            if let Some(wake) = wake_for(res) {
                let _ = tx.send(wake);
            }
        })
        .map_err(|e| format!("cannot use inotify ({e})"))?;
        for dir in dirs {
            watcher
                .watch(dir, RecursiveMode::NonRecursive)
                .map_err(|e| format!("cannot watch {} ({e})", dir.display()))?;
        }
        Ok((watcher, rx))
    }

    /// Whether inotify events arrive (else the caller must poll).
    pub fn is_notify(&self) -> bool {
        self.inner.is_some()
    }

    /// Waits until an event or `deadline` (when polling: until `deadline`), then gathers every
    /// event already queued.
    pub fn wait(&self, deadline: Instant) -> Wake {
        let timeout = deadline.saturating_duration_since(Instant::now());
        let Some((_, rx)) = &self.inner else {
            std::thread::sleep(timeout);
            return Wake::default();
        };
        let Ok(mut wake) = rx.recv_timeout(timeout) else {
            return Wake::default();
        };
        while let Ok(w) = rx.try_recv() {
            wake.names |= w.names;
            wake.data |= w.data;
        }
        wake
    }
}

/// How often files are looked at whatever the events said.
pub const BACKSTOP: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_wakes_the_watcher() {
        let dir = tempfile::tempdir().unwrap();
        let (w, warning) = Watcher::new(&[dir.path().to_path_buf()], false);
        assert!(warning.is_none() && w.is_notify(), "{warning:?}");
        std::fs::write(dir.path().join("a.log"), "x\n").unwrap();
        let wake = w.wait(Instant::now() + Duration::from_secs(5));
        assert!(wake.names, "{wake:?}");
        let (p, _) = Watcher::new(&[], true);
        assert!(!p.is_notify());
        let t = Instant::now();
        assert_eq!(p.wait(t + Duration::from_millis(50)), Wake::default());
        assert!(t.elapsed() >= Duration::from_millis(50));
    }
}
