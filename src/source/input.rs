//! Opens a log source: a path, `-` for stdin, gzip detected by its magic bytes (not by the name).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;

/// An opened log source.
pub struct Input {
    /// Decompressed bytes.
    pub reader: Box<dyn Read + Send>,
    /// Whether the file is gzip-compressed (offsets then count decompressed bytes).
    pub gzip: bool,
    /// The opened file, when the source is a file (for its identity and size).
    pub file: Option<File>,
}

/// Whether `path` means standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Opens `path` (or stdin for `-`), decompressing gzip transparently.
pub fn open(path: &Path) -> io::Result<Input> {
    let (raw, file): (Box<dyn Read + Send>, Option<File>) = if is_stdin(path) {
        (Box::new(io::stdin()), None)
    } else {
        let f = File::open(path)?;
        if f.metadata()?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a directory, not a log file",
            ));
        }
        (Box::new(f.try_clone()?), Some(f))
    };
    let mut buffered = BufReader::with_capacity(256 * 1024, raw);
    let gzip = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read + Send> = if gzip {
        Box::new(MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    Ok(Input { reader, gzip, file })
}

/// The name to show for a path: `<stdin>` for `-`, else the path itself.
pub fn display_path(path: &Path) -> PathBuf {
    if is_stdin(path) {
        PathBuf::from("<stdin>")
    } else {
        path.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_is_detected_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.log");
        std::fs::write(&plain, b"line one\n").unwrap();
        let gz = dir.path().join("renamed-without-extension");
        let mut enc =
            flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
        enc.write_all(b"line one\n").unwrap();
        enc.finish().unwrap();
        for (p, is_gz) in [(&plain, false), (&gz, true)] {
            let mut input = open(p).unwrap();
            let mut s = String::new();
            input.reader.read_to_string(&mut s).unwrap();
            assert_eq!((s.as_str(), input.gzip), ("line one\n", is_gz));
        }
    }

    #[test]
    fn directories_and_missing_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(open(dir.path()).is_err());
        assert_eq!(
            open(&dir.path().join("nope")).err().unwrap().kind(),
            io::ErrorKind::NotFound
        );
    }
}
