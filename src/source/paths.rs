//! Expands the paths and glob patterns given to `tail` into the files they match now (telling
//! named pipes apart), and names the folders to watch for new ones.

use std::path::{Path, PathBuf};

/// A path or glob pattern to follow.
#[derive(Clone, Debug)]
pub struct Pattern {
    text: String,
    glob: Option<glob::Pattern>,
}

/// A pattern that is not a valid glob.
#[derive(Debug, thiserror::Error)]
#[error("invalid glob {pattern:?}: {source}; quote it so the shell does not expand it, and escape [ ] * ? with [[] []] [*] [?]")]
pub struct Error {
    /// The pattern.
    pub pattern: String,
    /// Why.
    pub source: glob::PatternError,
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

impl Pattern {
    /// Parses a path or glob.
    pub fn new(text: &str) -> Result<Pattern, Error> {
        let glob = if has_glob(text) {
            Some(glob::Pattern::new(text).map_err(|source| Error {
                pattern: text.to_string(),
                source,
            })?)
        } else {
            None
        };
        Ok(Pattern {
            text: text.to_string(),
            glob,
        })
    }

    /// The folder whose entries can match: the pattern's parent when only its file name has
    /// wildcards, else `None` (then only the periodic rescan finds new files).
    pub fn watch_dir(&self) -> Option<PathBuf> {
        let parent = Path::new(&self.text).parent()?;
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        (!has_glob(&parent.to_string_lossy())).then(|| parent.to_path_buf())
    }

    /// Whether `path` is one this pattern names.
    pub fn matches_path(&self, path: &Path) -> bool {
        match &self.glob {
            Some(g) => g.matches_path(path),
            None => Path::new(&self.text) == path,
        }
    }

    /// Whether the pattern is a plain path (no wildcards).
    pub fn is_plain(&self) -> bool {
        self.glob.is_none()
    }

    /// Every path matching now, whatever its type, sorted.
    fn all_matches(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = match &self.glob {
            None => vec![PathBuf::from(&self.text)],
            Some(_) => glob::glob(&self.text)
                .map(|paths| paths.filter_map(Result::ok).collect())
                .unwrap_or_default(),
        };
        out.sort();
        out
    }

    /// Regular files matching now, sorted.
    pub fn matches(&self) -> Vec<PathBuf> {
        let mut out = self.all_matches();
        out.retain(|p| p.is_file());
        out
    }

    /// Named pipes (FIFOs) matching now, sorted. They are never followed: a pipe has no offset
    /// to commit, so what was read but not committed when `tail` stops could not be read again.
    pub fn pipes(&self) -> Vec<PathBuf> {
        let mut out = self.all_matches();
        out.retain(|p| is_pipe(p));
        out
    }

    /// The folders where files matching the pattern live now: the watched folder, or for a
    /// pattern with wildcards in its folder part, the folders of its matches.
    pub fn folders(&self) -> Vec<PathBuf> {
        if let Some(dir) = self.watch_dir() {
            return vec![dir];
        }
        let mut out: Vec<PathBuf> = self
            .matches()
            .iter()
            .filter_map(|p| p.parent().map(Path::to_path_buf))
            .collect();
        out.dedup();
        out
    }
}

/// Whether `path` is a named pipe (checked without opening it, which would wait for a writer).
pub fn is_pipe(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_files_and_name_their_folder() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.log", "b.log", "c.txt"] {
            std::fs::write(dir.path().join(name), "x\n").unwrap();
        }
        std::fs::create_dir(dir.path().join("d.log")).unwrap();
        let p = Pattern::new(&format!("{}/*.log", dir.path().display())).unwrap();
        let names: Vec<_> = p
            .matches()
            .iter()
            .map(|m| m.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.log", "b.log"]);
        assert_eq!(p.watch_dir().unwrap(), dir.path());
        let plain = Pattern::new("access.log").unwrap();
        assert_eq!(plain.watch_dir().unwrap(), Path::new("."));
        assert!(
            plain.matches().is_empty(),
            "a missing file matches nothing yet"
        );
        assert!(Pattern::new("/var/*/x.log").unwrap().watch_dir().is_none());
        let err = Pattern::new("/var/log/[.log").unwrap_err();
        assert!(err.to_string().contains("invalid glob"), "{err}");
    }

    #[test]
    fn pipes_are_told_apart_and_folders_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.log"), "x\n").unwrap();
        let fifo = dir.path().join("b.log");
        let c = std::ffi::CString::new(fifo.display().to_string()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let p = Pattern::new(&format!("{}/*.log", dir.path().display())).unwrap();
        assert_eq!(p.matches(), [dir.path().join("a.log")]);
        assert_eq!(p.pipes(), std::slice::from_ref(&fifo));
        assert!(is_pipe(&fifo) && !is_pipe(&dir.path().join("a.log")));
        let plain = Pattern::new(&fifo.display().to_string()).unwrap();
        assert!(plain.is_plain() && !p.is_plain());
        assert_eq!(plain.pipes(), [fifo]);
        assert_eq!(p.folders(), [dir.path().to_path_buf()]);
        let deep = Pattern::new(&format!("{}/*/x.log", dir.path().display())).unwrap();
        assert!(deep.folders().is_empty(), "no match, no folder");
        std::fs::create_dir(dir.path().join("site")).unwrap();
        std::fs::write(dir.path().join("site/x.log"), "x\n").unwrap();
        assert_eq!(deep.folders(), [dir.path().join("site")]);
    }
}

/// A site named `{dir}` in a source or `--site`: each file's site is the name of the folder that
/// holds it (`/var/log/remote/www.example.com/access.log` is site `www.example.com`), as a log
/// collector files each sender's lines under its name.
pub const SITE_FROM_FOLDER: &str = "{dir}";

/// The site of the hits of file `path`, given the site configured for it (see
/// [`SITE_FROM_FOLDER`]).
pub fn site_of(site: Option<&str>, path: &Path) -> Option<String> {
    match site {
        Some(SITE_FROM_FOLDER) => path
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned()),
        other => other.map(str::to_string),
    }
}

#[cfg(test)]
mod site_tests {
    use super::*;

    #[test]
    fn a_site_of_dir_is_the_folder_of_each_file() {
        let p = Path::new("/var/log/remote/web-a/access.log");
        assert_eq!(site_of(Some("{dir}"), p).as_deref(), Some("web-a"));
        assert_eq!(
            site_of(Some("example.com"), p).as_deref(),
            Some("example.com")
        );
        assert_eq!(site_of(None, p), None);
    }
}
