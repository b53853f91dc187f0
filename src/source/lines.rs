//! Splits a byte stream into lines without allocating per line, with a length limit.
//!
//! A line longer than the limit is not buffered whole: its bytes are skipped up to the next newline
//! and it comes out as [`Line::TooLong`], so a 10 MB line or a binary blob costs no memory and the
//! offset still moves past it (as Vector's `max_line_bytes` does).
//!
//! NUL bytes where a line would start are a hole left by `copytruncate` with a writer not using
//! `O_APPEND`: they are stepped over, not read as (part of) a line, so the line written after a
//! hole longer than the limit is not lost with it (issue #15, case 7).

use std::io::{self, Read};

/// Default line limit: 1 MiB.
pub const MAX_LINE_BYTES: usize = 1 << 20;
const READ_CHUNK: usize = 256 * 1024;

/// One line read from the stream.
#[derive(Debug, PartialEq)]
pub enum Line<'a> {
    /// A line without its `\n` (a `\r` before it is kept; parsers trim it).
    Text(&'a [u8]),
    /// A line over the limit, with its length in bytes.
    TooLong(u64),
}

/// Reads lines from `R`, tracking line numbers and byte offsets.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    max_len: usize,
    /// Offset (in the stream) of `buf[start]`.
    offset: u64,
    line_no: u64,
}

impl<R: Read> LineReader<R> {
    /// A reader whose first byte is at stream offset `offset` and whose first line is number `first_line`.
    pub fn new(inner: R, offset: u64, first_line: u64) -> Self {
        LineReader {
            inner,
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            eof: false,
            max_len: MAX_LINE_BYTES,
            offset,
            line_no: first_line.saturating_sub(1),
        }
    }

    /// Sets the line limit in bytes.
    pub fn max_line_bytes(mut self, max: usize) -> Self {
        self.max_len = max.max(1);
        self
    }

    /// Offset just past the last line returned.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn fill(&mut self) -> io::Result<usize> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2).min(self.max_len + READ_CHUNK);
            self.buf.resize(grown.max(self.buf.len() + 1), 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    if n == 0 {
                        self.eof = true;
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The next line with its 1-based number, or `None` at the end of the stream.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        loop {
            let nuls = self.buf[self.start..self.end]
                .iter()
                .take_while(|b| **b == 0)
                .count();
            self.start += nuls;
            self.offset += nuls as u64;
            if self.start < self.end || self.eof || self.fill()? == 0 {
                break;
            }
        }
        let mut scanned = 0;
        loop {
            let pending = &self.buf[self.start + scanned..self.end];
            if let Some(p) = memchr::memchr(b'\n', pending) {
                let line_end = self.start + scanned + p;
                let s = self.start;
                self.start = line_end + 1;
                self.offset += (line_end + 1 - s) as u64;
                self.line_no += 1;
                return Ok(Some((self.line_no, Line::Text(&self.buf[s..line_end]))));
            }
            scanned = self.end - self.start;
            if scanned > self.max_len {
                return self.skip_long_line();
            }
            if self.eof || self.fill()? == 0 {
                if self.start == self.end {
                    return Ok(None);
                }
                let len = self.end - self.start;
                let s = self.start;
                self.start = self.end;
                self.offset += len as u64;
                self.line_no += 1;
                return Ok(Some((self.line_no, Line::Text(&self.buf[s..self.end]))));
            }
        }
    }

    /// Discards the rest of an over-long line and returns its full length.
    fn skip_long_line(&mut self) -> io::Result<Option<(u64, Line<'static>)>> {
        let mut len = (self.end - self.start) as u64;
        self.start = self.end;
        loop {
            if self.fill()? == 0 {
                self.offset += len;
                self.line_no += 1;
                return Ok(Some((self.line_no, Line::TooLong(len))));
            }
            let chunk = &self.buf[self.start..self.end];
            if let Some(p) = memchr::memchr(b'\n', chunk) {
                len += p as u64;
                self.start += p + 1;
                self.offset += len + 1;
                self.line_no += 1;
                return Ok(Some((self.line_no, Line::TooLong(len))));
            }
            len += chunk.len() as u64;
            self.start = self.end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(data: &[u8], max: usize) -> (Vec<String>, u64) {
        let mut r = LineReader::new(data, 0, 1).max_line_bytes(max);
        let mut out = vec![];
        while let Some((_, l)) = r.next_line().unwrap() {
            out.push(match l {
                Line::Text(t) => String::from_utf8_lossy(t).into_owned(),
                Line::TooLong(n) => format!("<{n}>"),
            });
        }
        (out, r.offset())
    }

    #[test]
    fn splits_and_counts_offsets() {
        assert_eq!(
            collect(b"a\nbb\n\nccc", 100),
            (vec!["a".into(), "bb".into(), "".into(), "ccc".into()], 9)
        );
    }

    #[test]
    fn long_lines_are_skipped_with_their_length() {
        let mut data = b"ok\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 1_000_000));
        data.extend_from_slice(b"\nafter\n");
        let (lines, offset) = collect(&data, 1000);
        assert_eq!(
            lines,
            vec!["ok".to_string(), "<1000000>".into(), "after".into()]
        );
        assert_eq!(offset, data.len() as u64);
    }

    #[test]
    fn a_hole_of_nuls_is_stepped_over_and_the_line_after_it_kept() {
        for hole in [1, 999, 1001, 3 * READ_CHUNK] {
            let mut data = b"first\n".to_vec();
            data.extend(std::iter::repeat_n(0u8, hole));
            data.extend_from_slice(b"after hole\n");
            data.extend(std::iter::repeat_n(0u8, hole));
            let (lines, offset) = collect(&data, 1000);
            assert_eq!(
                (lines, offset),
                (
                    vec!["first".to_string(), "after hole".into()],
                    data.len() as u64
                ),
                "hole {hole}"
            );
        }
    }

    #[test]
    fn lines_across_read_chunks() {
        let line = "y".repeat(100_000);
        let data = format!("{line}\n{line}\n{line}\n").repeat(5);
        let (lines, _) = collect(data.as_bytes(), MAX_LINE_BYTES);
        assert_eq!(lines.len(), 15);
        assert!(lines.iter().all(|l| l.len() == 100_000));
    }
}
