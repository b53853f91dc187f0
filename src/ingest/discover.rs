//! Which files `tail` reads: the files its patterns name now, the named pipes they name (never
//! read), and known files renamed away from a name they match while nothing read them.
//!
//! The last ones matter after a rename rotation that the pattern does not follow (it names
//! `access.log` only): lines the server wrote to the renamed `access.log.1` after the last commit
//! are in no file the pattern names. A file is found again by content, whatever its name, the
//! way Vector's file source finds a checkpointed file by fingerprint rather than by path; it is
//! then read from its committed offset to its end.

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::resume;
use crate::parse::FormatChoice;
use crate::source::follower::is_gzip;
use crate::source::identity::{self, FINGERPRINT_BYTES};
use crate::source::paths::Pattern;
use crate::store::files::{self, FileRecord};

/// A path or glob to follow, and how its files are read.
#[derive(Clone, Debug)]
pub struct SourceSpec {
    /// Which files.
    pub pattern: Pattern,
    /// Their format (or detection).
    pub choice: FormatChoice,
    /// Site name for their hits (`None`: the log's host field).
    pub site: Option<String>,
}

/// A named pipe given by name to `tail`.
#[derive(Debug, thiserror::Error)]
#[error("{path} is a named pipe (FIFO), which `tail` does not read: it resumes each file at the offset committed with its events, and a pipe has no offset, so lines read but not committed when it stops would be lost; have the server write its log to a file and follow that")]
pub struct PipeError {
    /// The pipe.
    pub path: String,
}

/// Refuses a plain path (no wildcards) that names a named pipe. Pipes matched by a glob are
/// reported by the loop as skipped instead (see [`pipes`]).
pub fn refuse_pipes(sources: &[SourceSpec]) -> Result<(), PipeError> {
    match sources
        .iter()
        .filter(|s| s.pattern.is_plain())
        .flat_map(|s| s.pattern.pipes())
        .next()
    {
        Some(p) => Err(PipeError {
            path: p.display().to_string(),
        }),
        None => Ok(()),
    }
}

/// The folders to watch for new files.
pub fn watch_dirs(sources: &[SourceSpec]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = sources
        .iter()
        .filter_map(|s| s.pattern.watch_dir())
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs.retain(|p| p.is_dir());
    dirs
}

/// The regular files the patterns name now, with the index of the source naming them.
pub fn named(sources: &[SourceSpec]) -> Vec<(usize, PathBuf)> {
    sources
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.pattern.matches().into_iter().map(move |p| (i, p)))
        .collect()
}

/// The named pipes the patterns match now.
pub fn pipes(sources: &[SourceSpec]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = sources.iter().flat_map(|s| s.pattern.pipes()).collect();
    out.sort();
    out.dedup();
    out
}

/// A known file found under a name no pattern matches.
#[derive(Clone, Debug, PartialEq)]
pub struct Renamed {
    /// Index of the source whose pattern matched the name it was read under.
    pub source: usize,
    /// Where it is now.
    pub path: PathBuf,
    /// Its record: it was read under `record.path`, up to `record.offset`.
    pub record: FileRecord,
}

/// Whether a pattern names `path` (a folder entry of `.` also as a bare name).
fn names(pattern: &Pattern, path: &Path) -> bool {
    pattern.matches_path(path)
        || path
            .strip_prefix(".")
            .is_ok_and(|p| pattern.matches_path(p))
}

/// The first bytes of a file (at most [`FINGERPRINT_BYTES`]).
fn head(file: &File) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; FINGERPRINT_BYTES];
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], got as u64)? {
            0 => break,
            n => got += n,
        }
    }
    buf.truncate(got);
    Ok(buf)
}

/// The record the regular, uncompressed file at `path` continues by the shared rule, with the
/// file's size.
fn continued(conn: &Connection, path: &Path) -> rusqlite::Result<Option<(FileRecord, u64)>> {
    let Ok(file) = File::open(path) else {
        return Ok(None);
    };
    let Ok(size) = file.metadata().map(|m| m.len()) else {
        return Ok(None);
    };
    let Ok(head) = head(&file) else {
        return Ok(None);
    };
    let Some(fingerprint) = identity::fingerprint(&head).filter(|_| !is_gzip(&head)) else {
        return Ok(None);
    };
    let candidates = files::candidates(conn, fingerprint)?;
    let marker_at = |offset, len| identity::marker_in(&file, offset, len);
    Ok(resume::continued(size, candidates, marker_at)
        .ok()
        .flatten()
        .map(|c| (c, size)))
}

/// Whether a regular file (not a pipe, which opening would wait on).
fn is_regular(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Device and inode of the database at `db` and of its `-wal`, `-shm` and `-journal` files, as
/// they are now. Discovery must never open them: SQLite locks them with POSIX advisory locks,
/// which the process loses as soon as it closes any descriptor of the same file (SQLite's "How
/// To Corrupt An SQLite Database File", section 2.2), and the loop then dies of SIGBUS on the
/// shared-memory index or corrupts the database.
pub fn store_files(db: &Path) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        if let Ok(m) = std::fs::metadata(&name) {
            out.push((m.dev(), m.ino()));
        }
    }
    out
}

/// Known files that left the names the patterns match and still hold lines past their committed
/// offset: in the folders of the patterns, every regular file no pattern names (say
/// `access.log.1`) that continues a record (by [`resume::continued`]) whose path a pattern
/// matches (`access.log`) while that path no longer holds the record's content (it names a new
/// file, or nothing). A copy of a file still in place is thus never read, and a file read to its
/// end is left alone. Files whose device and inode are in `avoid` (see [`store_files`]) are not
/// opened.
pub fn renamed_away(
    conn: &Connection,
    sources: &[SourceSpec],
    avoid: &[(u64, u64)],
) -> rusqlite::Result<Vec<Renamed>> {
    let mut out: Vec<Renamed> = Vec::new();
    let mut folders: Vec<PathBuf> = sources.iter().flat_map(|s| s.pattern.folders()).collect();
    folders.sort();
    folders.dedup();
    for dir in folders {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if !meta.is_file()
                || avoid.contains(&(meta.dev(), meta.ino()))
                || sources.iter().any(|s| names(&s.pattern, &path))
            {
                continue;
            }
            let Some((record, size)) = continued(conn, &path)? else {
                continue;
            };
            let Some(source) = sources
                .iter()
                .position(|s| s.pattern.matches_path(Path::new(&record.path)))
            else {
                continue;
            };
            if record.offset >= size || out.iter().any(|r| r.record.id == record.id) {
                continue;
            }
            let old = Path::new(&record.path);
            let still_there =
                is_regular(old) && continued(conn, old)?.is_some_and(|(r, _)| r.id == record.id);
            if !still_there {
                out.push(Renamed {
                    source,
                    path,
                    record,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use std::fs::File;
    use std::io::Write;

    fn spec(pattern: &Path) -> SourceSpec {
        SourceSpec {
            pattern: Pattern::new(&pattern.display().to_string()).unwrap(),
            choice: FormatChoice::Auto,
            site: None,
        }
    }

    fn append(path: &Path, text: &str) {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }

    /// A record for the file at `path`, committed up to its end.
    fn read_to_end(store: &Store, path: &Path) -> FileRecord {
        let content = std::fs::read(path).unwrap();
        let fingerprint = identity::fingerprint(&content).unwrap();
        let shown = path.display().to_string();
        let record = files::create(store.conn(), &shown, fingerprint, None, false).unwrap();
        let lines = content.iter().filter(|c| **c == b'\n').count() as u64;
        let marker = identity::marker(&content);
        files::skip_to(
            store.conn(),
            record.id,
            &shown,
            content.len() as u64,
            lines,
            marker,
        )
        .unwrap();
        files::get(store.conn(), record.id).unwrap().unwrap()
    }

    #[test]
    fn a_known_file_renamed_away_is_found_by_content() {
        let store = Store::open_in_memory().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("access.log");
        append(&log, "old one\nold two\n");
        let record = read_to_end(&store, &log);
        let sources = [spec(&log)];
        assert_eq!(renamed_away(store.conn(), &sources, &[]).unwrap(), []);

        // Rename rotation while stopped, with writes to the renamed file.
        let rotated = dir.path().join("access.log.1");
        std::fs::rename(&log, &rotated).unwrap();
        append(&rotated, "old three\n");
        append(&log, "new one\n");
        let found = renamed_away(store.conn(), &sources, &[]).unwrap();
        assert_eq!(
            found,
            [Renamed {
                source: 0,
                path: rotated.clone(),
                record: record.clone()
            }]
        );
        // Without a new file at the old name, too.
        std::fs::remove_file(&log).unwrap();
        assert_eq!(renamed_away(store.conn(), &sources, &[]).unwrap(), found);
        // Read to its end: nothing to do.
        let _ = read_to_end(&store, &rotated);
        assert_eq!(renamed_away(store.conn(), &sources, &[]).unwrap(), []);
    }

    #[test]
    fn copies_other_patterns_and_compressed_files_are_left_alone() {
        let store = Store::open_in_memory().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("access.log");
        append(&log, "one\ntwo\n");
        read_to_end(&store, &log);
        // A copy with more lines, the original still in place: only the original is read.
        let copy = dir.path().join("access.log.bak");
        std::fs::copy(&log, &copy).unwrap();
        append(&copy, "three\n");
        assert_eq!(renamed_away(store.conn(), &[spec(&log)], &[]).unwrap(), []);
        // Its record was read under a name this pattern does not match.
        std::fs::remove_file(&log).unwrap();
        let other = spec(&dir.path().join("other.log"));
        assert_eq!(renamed_away(store.conn(), &[other], &[]).unwrap(), []);
        // A gzip file is never followed.
        let gz = dir.path().join("access.log.2.gz");
        std::fs::write(&gz, [0x1f, 0x8b, 8, 0, b'\n']).unwrap();
        let found = renamed_away(store.conn(), &[spec(&log)], &[]).unwrap();
        assert_eq!(
            found.iter().map(|r| &r.path).collect::<Vec<_>>(),
            [&copy],
            "the copy now holds the record's lines"
        );
        // Files a glob names are found by name, not here.
        let glob = spec(&dir.path().join("access.log*"));
        assert_eq!(renamed_away(store.conn(), &[glob], &[]).unwrap(), []);
    }

    #[test]
    fn the_database_files_are_never_opened() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("logtally.db");
        let store = Store::open(&db).unwrap();
        store
            .conn()
            .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        let avoid = store_files(&db);
        assert!(avoid.len() >= 2, "the database and its WAL: {avoid:?}");
        let log = dir.path().join("access.log");
        append(&log, "one\n");
        // Records whose fingerprints are those of the database's files: only `avoid` keeps
        // discovery from opening them.
        let mut lures = 0;
        for name in ["logtally.db", "logtally.db-wal"] {
            let head = head(&File::open(dir.path().join(name)).unwrap()).unwrap();
            if let Some(fp) = identity::fingerprint(&head) {
                files::create(store.conn(), &log.display().to_string(), fp, None, false).unwrap();
                lures += 1;
            }
        }
        assert!(lures > 0);
        let found = renamed_away(store.conn(), &[spec(&log)], &avoid).unwrap();
        assert_eq!(found, []);
    }

    #[test]
    fn pipes_are_listed_and_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("access.log");
        let c = std::ffi::CString::new(fifo.display().to_string()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let plain = [spec(&fifo)];
        assert!(named(&plain).is_empty());
        assert_eq!(pipes(&plain), std::slice::from_ref(&fifo));
        let err = refuse_pipes(&plain).unwrap_err();
        assert!(err.to_string().contains("named pipe"), "{err}");
        let glob = [spec(&dir.path().join("*.log"))];
        assert!(refuse_pipes(&glob).is_ok(), "a glob only skips it");
        assert_eq!(pipes(&glob), [fifo]);
        assert_eq!(watch_dirs(&glob), [dir.path().to_path_buf()]);
    }

    #[test]
    fn files_are_named_with_their_source_and_folders_watched_once() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.log", "b.log", "c.txt"] {
            std::fs::write(dir.path().join(name), "x\n").unwrap();
        }
        let spec = |p: &str| SourceSpec {
            pattern: Pattern::new(&dir.path().join(p).display().to_string()).unwrap(),
            choice: FormatChoice::Auto,
            site: None,
        };
        let sources = [spec("*.log"), spec("c.txt"), spec("missing.log")];
        let names: Vec<(usize, String)> = named(&sources)
            .into_iter()
            .map(|(i, p)| (i, p.file_name().unwrap().to_string_lossy().into_owned()))
            .collect();
        assert_eq!(
            names,
            [
                (0, "a.log".into()),
                (0, "b.log".into()),
                (1, "c.txt".into())
            ]
        );
        assert_eq!(watch_dirs(&sources), [dir.path().to_path_buf()]);
    }
}
