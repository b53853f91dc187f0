//! Cuts a stream into chunks of whole lines for parallel parsing.
//!
//! Each chunk ends at a newline, knows its byte range and first line number, and is small enough
//! (about 2 MiB) that a handful in flight keep memory bounded whatever the file size. A line longer
//! than the line limit is never buffered whole: it becomes a [`Chunk`] with `too_long` set.
//!
//! NUL bytes where a line would start are a hole, not a line: a writer without `O_APPEND` after
//! `copytruncate` goes on writing at its old offset and leaves the file's start as NULs. A chunk
//! never holds a hole within it; one that starts at a hole steps over it (its `data` begins after
//! the NULs, its offsets cover them), as `follower` does for `tail`. Before, a hole longer than the
//! line limit was one over-long line together with the real line written after it, which was lost
//! (issue #15, case 7).

use std::io::{self, Read};

use super::MAX_LINE_BYTES;

/// Target size of a chunk in bytes.
pub const CHUNK_BYTES: usize = 2 << 20;

/// A run of whole lines.
#[derive(Debug, Default)]
pub struct Chunk {
    /// The lines, each ending in `\n` (the last one may lack it at the end of a finished stream).
    pub data: Vec<u8>,
    /// Stream offset of `data[0]`.
    pub start_offset: u64,
    /// Stream offset just past the chunk.
    pub end_offset: u64,
    /// Number of the first line.
    pub first_line: u64,
    /// Number of lines in the chunk.
    pub lines: u64,
    /// Set when the chunk stands for one over-long line (its length); `data` is then empty.
    pub too_long: Option<u64>,
}

/// Reads chunks from a stream.
pub struct ChunkReader<R> {
    inner: R,
    carry: Vec<u8>,
    offset: u64,
    next_line: u64,
    take_partial: bool,
    held_back: u64,
    eof: bool,
    chunk_bytes: usize,
    max_line: usize,
    spare: Vec<Vec<u8>>,
    /// NUL bytes of a hole stepped over since the last chunk, before the bytes in hand.
    hole: u64,
}

impl<R: Read> ChunkReader<R> {
    /// Chunks of `inner`, whose first byte is at `offset` and first line is `first_line`.
    /// `take_partial`: whether a last line without `\n` is read (finished streams) or held back
    /// (a file that may still be written).
    pub fn new(inner: R, offset: u64, first_line: u64, take_partial: bool) -> Self {
        ChunkReader {
            inner,
            carry: Vec::new(),
            offset,
            next_line: first_line,
            take_partial,
            held_back: 0,
            eof: false,
            chunk_bytes: CHUNK_BYTES,
            max_line: MAX_LINE_BYTES,
            spare: Vec::new(),
            hole: 0,
        }
    }

    /// Sets the chunk size and line limit (tests use small ones).
    pub fn with_sizes(mut self, chunk_bytes: usize, max_line: usize) -> Self {
        self.chunk_bytes = chunk_bytes.max(1);
        self.max_line = max_line.max(1);
        self
    }

    /// Bytes of an unterminated last line that were not read.
    pub fn held_back(&self) -> u64 {
        self.held_back
    }

    fn read_more(&mut self, buf: &mut Vec<u8>, want: usize) -> io::Result<usize> {
        let start = buf.len();
        buf.resize(start + want, 0);
        let n = loop {
            match self.inner.read(&mut buf[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    buf.truncate(start);
                    return Err(e);
                }
            }
        };
        buf.truncate(start + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(n)
    }

    /// Gives back a chunk's buffer once parsed, so the next chunk reuses its memory.
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.spare.len() < 8 && buf.capacity() >= self.chunk_bytes {
            buf.clear();
            self.spare.push(buf);
        }
    }

    fn emit(&mut self, mut data: Vec<u8>, len: usize) -> Chunk {
        self.carry.clear();
        self.carry.extend_from_slice(&data[len..]);
        data.truncate(len);
        let lines =
            memchr::memchr_iter(b'\n', &data).count() as u64 + u64::from(!data.ends_with(b"\n"));
        let chunk = Chunk {
            start_offset: self.offset,
            end_offset: self.offset + std::mem::take(&mut self.hole) + data.len() as u64,
            first_line: self.next_line,
            lines,
            data,
            too_long: None,
        };
        self.offset = chunk.end_offset;
        self.next_line += lines;
        chunk
    }

    /// The next chunk, or `None` at the end.
    pub fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.extend_from_slice(&self.carry);
        self.carry.clear();
        buf.reserve(self.chunk_bytes.saturating_sub(buf.len()));
        loop {
            while buf.len() < self.chunk_bytes && !self.eof {
                let want = self.chunk_bytes - buf.len();
                self.read_more(&mut buf, want)?;
            }
            // `buf` starts a line: NULs there are a hole, stepped over however long it is.
            let nuls = buf.iter().take_while(|b| **b == 0).count();
            self.hole += nuls as u64;
            buf.drain(..nuls);
            if !buf.is_empty() || self.eof {
                break;
            }
        }
        // A hole after a line ends the chunk there, so that the next chunk steps over it.
        if let Some(p) = memchr::memmem::find(&buf, b"\n\0") {
            return Ok(Some(self.emit(buf, p + 1)));
        }
        if let Some(last_nl) = memchr::memrchr(b'\n', &buf) {
            return Ok(Some(self.emit(buf, last_nl + 1)));
        }
        // No newline in the buffer.
        if buf.is_empty() {
            // Nothing but a hole up to the end: left to be stepped over again next time, once
            // the line after it is written.
            self.hole = 0;
            return Ok(None);
        }
        if self.eof {
            if self.take_partial {
                let len = buf.len();
                return Ok(Some(self.emit(buf, len)));
            }
            self.held_back = buf.len() as u64;
            self.carry = buf;
            return Ok(None);
        }
        // More than a chunk without a newline: read on until one, up to the line limit.
        while !self.eof && buf.len() <= self.max_line {
            let before = buf.len();
            let want = (self.max_line + 1 - buf.len()).min(256 * 1024);
            self.read_more(&mut buf, want)?;
            if let Some(p) = memchr::memchr(b'\n', &buf[before..]) {
                let end = before + p + 1;
                return Ok(Some(self.emit(buf, end)));
            }
        }
        if self.eof && buf.len() <= self.max_line {
            return self.next_at_eof(buf);
        }
        self.skip_long_line(buf).map(Some)
    }

    fn next_at_eof(&mut self, buf: Vec<u8>) -> io::Result<Option<Chunk>> {
        if self.take_partial {
            let len = buf.len();
            return Ok(Some(self.emit(buf, len)));
        }
        self.held_back = buf.len() as u64;
        self.carry = buf;
        Ok(None)
    }

    /// The chunk standing for one over-long line of `len` bytes taking `bytes` of the stream
    /// (after the hole before it, if any).
    fn long_line(&mut self, len: u64, bytes: u64) -> Chunk {
        let chunk = Chunk {
            start_offset: self.offset,
            end_offset: self.offset + std::mem::take(&mut self.hole) + bytes,
            first_line: self.next_line,
            lines: 1,
            data: Vec::new(),
            too_long: Some(len),
        };
        self.offset = chunk.end_offset;
        self.next_line += 1;
        chunk
    }

    /// Discards an over-long line up to its newline; returns it as a `too_long` chunk.
    fn skip_long_line(&mut self, mut buf: Vec<u8>) -> io::Result<Chunk> {
        let mut len = buf.len() as u64;
        loop {
            buf.clear();
            if self.read_more(&mut buf, 256 * 1024)? == 0 {
                // Unterminated at the end: counted as one over-long line in every mode, since
                // holding back an over-limit line could never help it parse.
                return Ok(self.long_line(len, len));
            }
            if let Some(p) = memchr::memchr(b'\n', &buf) {
                len += p as u64;
                self.carry = buf.split_off(p + 1);
                return Ok(self.long_line(len, len + 1));
            }
            len += buf.len() as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: &[u8], chunk: usize, max: usize, partial: bool) -> (Vec<Chunk>, u64) {
        let mut r = ChunkReader::new(data, 100, 1, partial).with_sizes(chunk, max);
        let mut out = vec![];
        while let Some(c) = r.next_chunk().unwrap() {
            out.push(c);
        }
        (out, r.held_back())
    }

    #[test]
    fn chunks_cover_every_byte_and_line_once() {
        let data: Vec<u8> = (0..1000)
            .flat_map(|i| format!("line number {i}\n").into_bytes())
            .collect();
        let (chunks, held) = all(&data, 1000, 10_000, false);
        assert_eq!(held, 0);
        assert!(chunks.len() > 10);
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.data.clone()).collect();
        assert_eq!(joined, data);
        let mut offset = 100;
        let mut line = 1;
        for c in &chunks {
            assert_eq!((c.start_offset, c.first_line), (offset, line));
            assert!(c.data.ends_with(b"\n"));
            offset = c.end_offset;
            line += c.lines;
        }
        assert_eq!((offset, line), (100 + data.len() as u64, 1001));
    }

    #[test]
    fn partial_last_line_is_held_back_or_taken() {
        let (chunks, held) = all(b"a\nb\npartial", 1000, 1000, false);
        assert_eq!(
            (chunks.len(), chunks[0].data.as_slice(), held),
            (1, &b"a\nb\n"[..], 7)
        );
        let (chunks, held) = all(b"a\nb\npartial", 1000, 1000, true);
        let total: u64 = chunks.iter().map(|c| c.lines).sum();
        assert_eq!((total, held), (3, 0));
    }

    /// The lines of `chunks` as text, checking that they cover the stream from offset 100 once.
    fn lines_of(chunks: &[Chunk], len: usize) -> Vec<String> {
        let mut end = 100;
        let mut line = 1;
        for c in chunks {
            assert_eq!((c.start_offset, c.first_line), (end, line));
            end = c.end_offset;
            line += c.lines;
        }
        assert_eq!(end, 100 + len as u64, "chunks cover every byte once");
        chunks
            .iter()
            .flat_map(|c| match c.too_long {
                Some(n) => vec![format!("<{n}>")],
                None => String::from_utf8_lossy(&c.data)
                    .lines()
                    .map(String::from)
                    .collect(),
            })
            .collect()
    }

    #[test]
    fn a_hole_of_nuls_is_stepped_over_and_the_line_after_it_kept() {
        for hole in [1, 50, 999, 1001, 5000] {
            let mut data = b"first\nsecond\n".to_vec();
            data.extend(std::iter::repeat_n(0u8, hole));
            data.extend_from_slice(b"after hole\nlast\n");
            for chunk in [8, 100, 10_000] {
                let (chunks, held) = all(&data, chunk, 1000, false);
                assert_eq!(
                    (lines_of(&chunks, data.len()), held),
                    (
                        vec![
                            "first".to_string(),
                            "second".into(),
                            "after hole".into(),
                            "last".into()
                        ],
                        0
                    ),
                    "hole {hole}, chunk {chunk}"
                );
            }
        }
    }

    #[test]
    fn a_hole_at_the_start_or_the_end() {
        let mut data = vec![0u8; 3000];
        data.extend_from_slice(b"a\n");
        let (chunks, _) = all(&data, 100, 1000, true);
        assert_eq!(lines_of(&chunks, data.len()), vec!["a".to_string()]);
        // A hole at the end is left unread until the line after it comes.
        let mut data = b"a\n".to_vec();
        data.extend(std::iter::repeat_n(0u8, 3000));
        let (chunks, held) = all(&data, 100, 1000, true);
        assert_eq!((chunks.len(), chunks[0].end_offset, held), (1, 102, 0));
        // A hole then an over-long line: one too-long line, covering the hole.
        let mut data = vec![0u8; 30];
        data.extend(std::iter::repeat_n(b'x', 2000));
        data.extend_from_slice(b"\nok\n");
        let (chunks, _) = all(&data, 100, 1000, true);
        assert_eq!(
            lines_of(&chunks, data.len()),
            vec!["<2000>".to_string(), "ok".into()]
        );
    }

    #[test]
    fn over_long_line_becomes_its_own_chunk() {
        let mut data = b"ok\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 50_000));
        data.extend_from_slice(b"\nafter\n");
        let (chunks, _) = all(&data, 100, 1000, true);
        let long: Vec<_> = chunks.iter().filter(|c| c.too_long.is_some()).collect();
        assert_eq!(long.len(), 1);
        assert_eq!((long[0].too_long, long[0].first_line), (Some(50_000), 2));
        let last = chunks.last().unwrap();
        assert_eq!(
            (last.data.as_slice(), last.first_line, last.end_offset),
            (&b"after\n"[..], 3, 100 + data.len() as u64)
        );
    }
}
