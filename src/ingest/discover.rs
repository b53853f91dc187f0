//! Which files `tail` reads: the files its patterns name now, and the folders to watch for new
//! ones.

use std::path::PathBuf;

use crate::parse::FormatChoice;
use crate::source::paths::Pattern;

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

#[cfg(test)]
mod tests {
    use super::*;

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
