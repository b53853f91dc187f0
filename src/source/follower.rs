//! Follows one open log file: reads what was appended since the last call and cuts it into chunks
//! of whole lines with their byte offsets, holding back an unfinished last line, skipping NUL
//! holes and over-long lines, and telling when the file was truncated, rewritten or rotated away.
//!
//! The follower never touches the database: the caller decides where it starts (`start_at`) from
//! the committed offset of the file's record, and commits the chunks.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::chunks::{Chunk, CHUNK_BYTES};
use super::identity::{self, FINGERPRINT_BYTES, MARKER_BYTES};
use super::MAX_LINE_BYTES;

/// What happened to a followed file since the last look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Nothing but maybe appends.
    Same,
    /// Its size fell below what was read, or its content before the read offset changed
    /// (copytruncate, or truncate-and-rewrite on the same inode): read it again from 0.
    Truncated,
    /// The path now names another file, or nothing (rename or delete rotation): drain this
    /// descriptor to its end, and follow the path anew.
    RotatedAway,
}

/// One followed file.
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    file: File,
    dev_ino: (u64, u64),
    /// Where the next read starts.
    read_pos: u64,
    /// Offset just past the last chunk handed out.
    emitted: u64,
    /// Bytes read past `emitted`: an unfinished line (or NULs).
    partial: Vec<u8>,
    /// Number of the next line.
    next_line: u64,
    /// Bytes so far of an over-long line being skipped.
    skipping: Option<u64>,
    /// Identity of the content, once the first line is complete.
    fingerprint: Option<i64>,
    /// Marker of the bytes before `emitted`, to notice a rewrite.
    marker: (u32, i64),
    started: bool,
    max_line: usize,
    /// Size and modification time at the last look, to verify content only when it changed.
    last_seen: (u64, i64, i64),
}

fn dev_ino(m: &std::fs::Metadata) -> (u64, u64) {
    (m.dev(), m.ino())
}

/// Device and inode of the file at `path` now, if there is one.
pub fn dev_ino_of(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| dev_ino(&m))
}

/// Whether `head` starts like a gzip stream (never followed: rotated, compressed copies are for
/// `import`).
pub fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
}

impl Follower {
    /// Opens `path`; nothing is read until [`Follower::start_at`].
    pub fn open(path: &Path) -> io::Result<Follower> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::other("not a regular file"));
        }
        Ok(Follower {
            path: path.to_path_buf(),
            dev_ino: dev_ino(&meta),
            file,
            read_pos: 0,
            emitted: 0,
            partial: Vec::new(),
            next_line: 1,
            skipping: None,
            fingerprint: None,
            marker: (0, 0),
            started: false,
            max_line: MAX_LINE_BYTES,
            last_seen: (0, 0, 0),
        })
    }

    /// Sets the line limit (tests use a small one).
    pub fn with_max_line(mut self, max_line: usize) -> Self {
        self.max_line = max_line.max(1);
        self
    }

    /// The path it was opened by (which may name another file since).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Device and inode of the open file.
    pub fn dev_ino(&self) -> (u64, u64) {
        self.dev_ino
    }

    /// Size of the open file now.
    pub fn size(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    /// Offset just past the last chunk handed out.
    pub fn emitted(&self) -> u64 {
        self.emitted
    }

    /// Whether reading has started.
    pub fn started(&self) -> bool {
        self.started
    }

    /// The first `len` bytes of the file (fewer when it is shorter).
    pub fn head(&self, len: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; len];
        let n = read_at_most(&self.file, &mut buf, 0)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// The offset just past the last complete line now, and the number of lines before it
    /// (for `--from end`).
    pub fn end_of_last_line(&self) -> io::Result<(u64, u64)> {
        let size = self.size()?;
        let mut buf = vec![0u8; 256 * 1024];
        let (mut pos, mut lines, mut end) = (0u64, 0u64, 0u64);
        while pos < size {
            let want = ((size - pos) as usize).min(buf.len());
            let n = read_at_most(&self.file, &mut buf[..want], pos)?;
            if n == 0 {
                break;
            }
            for p in memchr::memchr_iter(b'\n', &buf[..n]) {
                lines += 1;
                end = pos + p as u64 + 1;
            }
            pos += n as u64;
        }
        Ok((end, lines))
    }

    /// The fingerprint of the content from its `head` (see [`Follower::head`]), kept to notice a
    /// rewrite later; `None` while the first line is unfinished.
    pub fn identify(&mut self, head: &[u8]) -> Option<i64> {
        if self.fingerprint.is_none() {
            self.fingerprint = identity::fingerprint(head);
        }
        self.fingerprint
    }

    /// The marker of the `len` bytes before `offset`, read from the file.
    pub fn marker_at(&self, offset: u64, len: u32) -> io::Result<Option<(u32, i64)>> {
        identity::marker_in(&self.file, offset, len)
    }

    /// Starts reading at `offset` (a line start), numbering the next line `next_line`.
    pub fn start_at(&mut self, offset: u64, next_line: u64) -> io::Result<()> {
        self.read_pos = offset;
        self.emitted = offset;
        self.next_line = next_line;
        self.partial.clear();
        self.skipping = None;
        self.started = true;
        self.marker = self
            .marker_at(offset, MARKER_BYTES as u32)?
            .unwrap_or((0, 0));
        Ok(())
    }

    /// Forgets everything read: the content is new (after [`Change::Truncated`]).
    pub fn restart(&mut self) {
        self.read_pos = 0;
        self.emitted = 0;
        self.partial.clear();
        self.skipping = None;
        self.next_line = 1;
        self.fingerprint = None;
        self.marker = (0, 0);
        self.started = false;
    }

    /// Compares the file with what was read, and the path with the open file.
    pub fn check(&mut self) -> io::Result<Change> {
        let meta = self.file.metadata()?;
        if self.started && (meta.len() < self.read_pos || meta.len() < self.emitted) {
            return Ok(Change::Truncated);
        }
        let seen = (meta.len(), meta.mtime(), meta.mtime_nsec());
        if self.started && seen != self.last_seen {
            self.last_seen = seen;
            // Same inode, grown: was it rewritten from the start rather than appended to?
            let marker_now = self.marker_at(self.emitted, self.marker.0)?;
            if marker_now != Some(self.marker) {
                return Ok(Change::Truncated);
            }
            if let Some(fp) = self.fingerprint {
                if identity::fingerprint(&self.head(FINGERPRINT_BYTES)?)
                    .is_some_and(|now| now != fp)
                {
                    return Ok(Change::Truncated);
                }
            }
        }
        match std::fs::metadata(&self.path) {
            Ok(m) if dev_ino(&m) == self.dev_ino => Ok(Change::Same),
            Ok(_) => Ok(Change::RotatedAway),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Change::RotatedAway),
            Err(e) => Err(e),
        }
    }

    /// Reads what was appended (at most about `budget` bytes) and returns the whole lines in it as
    /// a chunk, or `None` when no whole line is ready. With `finish`, an unfinished last line is
    /// taken as it is (the file was rotated away and drained).
    pub fn read(&mut self, budget: usize, finish: bool) -> io::Result<Option<Chunk>> {
        if !self.started {
            return Ok(None);
        }
        let size = self.file.metadata()?.len();
        loop {
            let mut n = 0;
            if size > self.read_pos {
                let want = (size - self.read_pos).min(budget.max(1) as u64) as usize;
                let start = self.partial.len();
                self.partial.resize(start + want, 0);
                n = read_at_most(&self.file, &mut self.partial[start..], self.read_pos)?;
                self.partial.truncate(start + n);
                self.read_pos += n as u64;
            }
            let at_end = n == 0 || self.read_pos >= size;
            if let Some(chunk) = self.cut(finish && at_end) {
                return Ok(Some(chunk));
            }
            if at_end {
                return Ok(None);
            }
        }
    }

    /// Cuts the next chunk out of `partial`.
    fn cut(&mut self, finish: bool) -> Option<Chunk> {
        if let Some(skipped) = self.skipping {
            return match memchr::memchr(b'\n', &self.partial) {
                Some(p) => {
                    self.partial.drain(..=p);
                    self.skipping = None;
                    Some(self.long_line(skipped + p as u64, skipped + p as u64 + 1))
                }
                None if finish => {
                    let len = skipped + self.partial.len() as u64;
                    self.partial.clear();
                    self.skipping = None;
                    Some(self.long_line(len, len))
                }
                None => {
                    self.skipping = Some(skipped + self.partial.len() as u64);
                    self.partial.clear();
                    None
                }
            };
        }
        // A writer without O_APPEND after copytruncate leaves a hole of NULs: step over it.
        let nuls = self.partial.iter().take_while(|b| **b == 0).count();
        let end = match memchr::memrchr(b'\n', &self.partial) {
            Some(p) => p + 1,
            None if finish && self.partial.len() > nuls => self.partial.len(),
            None if self.partial.len() > self.max_line => {
                self.skipping = Some(self.partial.len() as u64);
                self.partial.clear();
                return None;
            }
            None => return None,
        };
        let rest = self.partial.split_off(end);
        let mut data = std::mem::replace(&mut self.partial, rest);
        let start_offset = self.emitted;
        self.emitted += data.len() as u64;
        data.drain(..nuls.min(data.len()));
        let lines = memchr::memchr_iter(b'\n', &data).count() as u64
            + u64::from(!data.is_empty() && !data.ends_with(b"\n"));
        if !data.is_empty() {
            let tail = &data[data.len().saturating_sub(MARKER_BYTES)..];
            if tail.len() == MARKER_BYTES || self.emitted as usize == tail.len() {
                self.marker = identity::marker(tail);
            } else {
                self.marker = self
                    .marker_at(self.emitted, MARKER_BYTES as u32)
                    .ok()
                    .flatten()
                    .unwrap_or((0, 0));
            }
        }
        let chunk = Chunk {
            data,
            start_offset,
            end_offset: self.emitted,
            first_line: self.next_line,
            lines,
            too_long: None,
        };
        self.next_line += lines;
        Some(chunk)
    }

    fn long_line(&mut self, len: u64, bytes: u64) -> Chunk {
        let chunk = Chunk {
            data: Vec::new(),
            start_offset: self.emitted,
            end_offset: self.emitted + bytes,
            first_line: self.next_line,
            lines: 1,
            too_long: Some(len),
        };
        self.emitted += bytes;
        self.next_line += 1;
        self.marker = self
            .marker_at(self.emitted, MARKER_BYTES as u32)
            .ok()
            .flatten()
            .unwrap_or((0, 0));
        chunk
    }

    /// Whether bytes past the last chunk were read but not handed out (an unfinished line).
    pub fn has_partial(&self) -> bool {
        !self.partial.is_empty() || self.skipping.is_some()
    }

    /// Bytes that [`Follower::read`] would still read now.
    pub fn unread(&self) -> io::Result<u64> {
        Ok(self.size()?.saturating_sub(self.read_pos))
    }
}

/// The default read budget per call.
pub const READ_BUDGET: usize = CHUNK_BYTES;

fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn append(path: &Path, data: &[u8]) {
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap()
            .write_all(data)
            .unwrap();
    }

    fn drain(f: &mut Follower) -> Vec<Chunk> {
        let mut out = vec![];
        while let Some(c) = f.read(16, false).unwrap() {
            out.push(c);
        }
        out
    }

    #[test]
    fn appends_come_out_as_whole_lines_with_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        append(&path, b"one\ntw");
        let mut f = Follower::open(&path).unwrap();
        let head = f.head(FINGERPRINT_BYTES).unwrap();
        assert_eq!(f.identify(&head), identity::fingerprint(b"one\n"));
        f.start_at(0, 1).unwrap();
        let c = drain(&mut f);
        assert_eq!((c.len(), c[0].data.as_slice()), (1, &b"one\n"[..]));
        assert!(f.has_partial(), "the unfinished line waits");
        append(&path, b"o\nthree\n");
        let c = drain(&mut f);
        let data: Vec<u8> = c.iter().flat_map(|c| c.data.clone()).collect();
        assert_eq!(data, b"two\nthree\n");
        assert_eq!((c[0].start_offset, c[0].first_line), (4, 2));
        assert_eq!((f.emitted(), f.check().unwrap()), (14, Change::Same));
    }

    #[test]
    fn truncation_rewrite_and_rotation_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        append(&path, b"first line\nsecond\n");
        let mut f = Follower::open(&path).unwrap();
        let head = f.head(FINGERPRINT_BYTES).unwrap();
        f.identify(&head);
        f.start_at(0, 1).unwrap();
        drain(&mut f);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        assert_eq!(f.check().unwrap(), Change::Truncated);
        f.restart();
        append(&path, b"other first\nlonger content than before\n");
        let head = f.head(FINGERPRINT_BYTES).unwrap();
        f.identify(&head);
        f.start_at(0, 1).unwrap();
        drain(&mut f);
        // Rewritten in place, longer, without a truncation in between.
        std::fs::write(&path, b"other first\nLONGER content than before\nmore\n").unwrap();
        assert_eq!(f.check().unwrap(), Change::Truncated);
        std::fs::rename(&path, dir.path().join("a.log.1")).unwrap();
        let mut g = Follower::open(&dir.path().join("a.log.1")).unwrap();
        assert_eq!(g.check().unwrap(), Change::Same);
        append(&path, b"new\n");
        assert_eq!(f.check().unwrap(), Change::RotatedAway);
    }

    #[test]
    fn nul_holes_and_long_lines_are_stepped_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let mut data = vec![0u8; 40];
        data.extend_from_slice(b"after hole\n");
        data.extend(std::iter::repeat_n(b'x', 100));
        data.extend_from_slice(b"\nok\nunfinished");
        append(&path, &data);
        let mut f = Follower::open(&path).unwrap().with_max_line(50);
        f.start_at(0, 1).unwrap();
        let c = drain(&mut f);
        let text: Vec<u8> = c.iter().flat_map(|c| c.data.clone()).collect();
        assert_eq!(text, b"after hole\nok\n");
        let long: Vec<_> = c.iter().filter_map(|c| c.too_long).collect();
        assert_eq!(long, vec![100]);
        assert_eq!(c.last().unwrap().first_line, 3);
        let last = f.read(16, true).unwrap().unwrap();
        assert_eq!(
            (last.data.as_slice(), last.end_offset),
            (&b"unfinished"[..], data.len() as u64)
        );
        let mut end = 0;
        for c in c.iter().chain([&last]) {
            assert_eq!(c.start_offset, end, "chunks cover every byte once");
            end = c.end_offset;
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// Append lines; with `true` the last one is written only in part (finished later).
        Append(u8, bool),
        /// Read with this budget until nothing is ready.
        Read(u16),
        /// copytruncate: cut the file to 0 in place.
        Truncate,
        /// Rewrite the file in place with new lines.
        Rewrite(u8),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            4 => (1u8..20, any::<bool>()).prop_map(|(n, p)| Op::Append(n, p)),
            4 => (1u16..400).prop_map(Op::Read),
            1 => Just(Op::Truncate),
            1 => (1u8..20).prop_map(Op::Rewrite),
        ]
    }

    /// The follower's rotation model: whatever the order of appends, partial writes, reads,
    /// truncations and rewrites, the lines it hands out are exactly the lines of the current
    /// content, in order, each once, with contiguous offsets; and after a last read all complete
    /// lines of the final content are out.
    #[test]
    fn rotation_model() {
        use proptest::prelude::*;
        proptest!(ProptestConfig::with_cases(200), |(ops in proptest::collection::vec(op(), 1..40))| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("a.log");
            std::fs::write(&path, "").unwrap();
            let mut f = Follower::open(&path).unwrap();
            let (mut epoch, mut n) = (0u32, 0u32);
            let mut written: Vec<String> = vec![];
            let mut pending: Option<String> = None;
            let mut emitted: Vec<String> = vec![];
            let mut next_offset = 0u64;
            let new_line = |epoch: u32, n: &mut u32| {
                *n += 1;
                format!("epoch{epoch} line{n} {}\n", "x".repeat((*n % 7) as usize * 9))
            };
            let read = |f: &mut Follower, budget: usize, emitted: &mut Vec<String>, next_offset: &mut u64, finish: bool| {
                if !f.started() {
                    let head = f.head(FINGERPRINT_BYTES).unwrap();
                    if f.identify(&head).is_none() {
                        return;
                    }
                    f.start_at(0, 1).unwrap();
                    *next_offset = 0;
                }
                while let Some(c) = f.read(budget, finish).unwrap() {
                    assert_eq!(c.start_offset, *next_offset, "contiguous offsets");
                    *next_offset = c.end_offset;
                    let text = String::from_utf8(c.data).unwrap();
                    emitted.extend(text.split_inclusive('\n').map(str::to_string));
                }
            };
            for op in ops {
                match op {
                    Op::Append(k, partial) => {
                        let mut text = String::new();
                        if let Some(line) = pending.take() {
                            text.push_str(&line[line.len() / 2..]);
                            written.push(line);
                        }
                        for i in 0..k {
                            let line = new_line(epoch, &mut n);
                            if partial && i + 1 == k {
                                text.push_str(&line[..line.len() / 2]);
                                pending = Some(line);
                            } else {
                                text.push_str(&line);
                                written.push(line);
                            }
                        }
                        append(&path, text.as_bytes());
                    }
                    Op::Read(budget) => read(&mut f, budget as usize, &mut emitted, &mut next_offset, false),
                    Op::Truncate | Op::Rewrite(_) => {
                        let had_read = f.started() && (f.emitted() > 0 || f.has_partial());
                        epoch += 1;
                        n = 0;
                        written.clear();
                        pending = None;
                        let mut text = String::new();
                        if let Op::Rewrite(k) = op {
                            for _ in 0..k {
                                let line = new_line(epoch, &mut n);
                                text.push_str(&line);
                                written.push(line);
                            }
                        }
                        std::fs::OpenOptions::new().write(true).truncate(true).open(&path).unwrap()
                            .write_all(text.as_bytes()).unwrap();
                        let change = f.check().unwrap();
                        if had_read {
                            prop_assert_eq!(change, Change::Truncated);
                        }
                        if change == Change::Truncated {
                            f.restart();
                        }
                        emitted.clear();
                        next_offset = 0;
                    }
                }
                prop_assert!(emitted.len() <= written.len(), "no line out twice or made up");
                prop_assert_eq!(&emitted[..], &written[..emitted.len()], "lines in order, each once");
            }
            read(&mut f, 4096, &mut emitted, &mut next_offset, false);
            prop_assert_eq!(emitted, written, "every complete line is read");
        });
    }
}
