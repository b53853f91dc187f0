//! Reads a whole stream through a format and tallies it, detecting the format from its first lines
//! when asked to. Used by `check`; holds nothing per line but the tally.

use std::io::{self, Read};

use super::{detect, Format, Hit, Tally};
use crate::source::{Line, LineReader};

/// Which format to read with.
#[derive(Clone, Debug, PartialEq)]
pub enum FormatChoice {
    /// Detect from the first non-empty lines.
    Auto,
    /// Use this format.
    Fixed(Format),
}

/// Why a stream could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading failed.
    #[error("reading failed: {0}")]
    Io(#[from] io::Error),
    /// `--format auto` found no format that reads the first lines, or only a wrong one.
    #[error("cannot tell the log format (line {line}: {sample:?}): {why}")]
    Undetected {
        /// First non-empty line number.
        line: u64,
        /// That line, cut.
        sample: String,
        /// Why, and what to pass.
        why: super::detect::Undetected,
    },
}

/// The result of scanning one stream.
#[derive(Debug)]
pub struct Scan {
    /// Format used.
    pub format: Format,
    /// Whether it was detected rather than given.
    pub detected: bool,
    /// Counts.
    pub tally: Tally,
}

/// Reads the first non-empty lines (up to the detection sample) into memory, with their numbers.
fn sample<R: Read>(
    reader: &mut LineReader<R>,
    tally: &mut Tally,
) -> io::Result<Vec<(u64, Vec<u8>)>> {
    let mut out = Vec::new();
    while out.len() < detect::SAMPLE_LINES {
        match reader.next_line()? {
            None => break,
            Some((n, Line::TooLong(len))) => tally.too_long(n, len),
            Some((_, Line::Text(t))) if Tally::is_blank(t) => tally.blank += 1,
            Some((n, Line::Text(t))) => out.push((n, t.to_vec())),
        }
    }
    Ok(out)
}

fn count(
    format: &Format,
    tally: &mut Tally,
    line_no: u64,
    line: &[u8],
    on_hit: &mut dyn FnMut(&Hit<'_>, &Format),
) {
    if Tally::is_blank(line) {
        tally.blank += 1;
        return;
    }
    match format.parse(line) {
        Ok(hit) => {
            tally.hit(&hit);
            on_hit(&hit, format);
        }
        Err(reason) => tally.reject(reason, line_no, line),
    }
}

/// Scans `input` to its end.
pub fn scan<R: Read>(input: R, choice: &FormatChoice) -> Result<Scan, Error> {
    scan_with(input, choice, &mut |_, _| {})
}

/// Scans `input` to its end, handing every hit and the format it was read with to `on_hit`.
pub fn scan_with<R: Read>(
    input: R,
    choice: &FormatChoice,
    on_hit: &mut dyn FnMut(&Hit<'_>, &Format),
) -> Result<Scan, Error> {
    let mut reader = LineReader::new(input, 0, 1);
    let mut tally = Tally::default();
    let (format, detected, head) = match choice {
        FormatChoice::Fixed(f) => (f.clone(), false, Vec::new()),
        FormatChoice::Auto => {
            let head = sample(&mut reader, &mut tally)?;
            match detect(head.iter().map(|(_, l)| l.as_slice())) {
                Ok(f) => (f, true, head),
                Err(_) if head.is_empty() => (Format::Combined, true, head),
                Err(why) => {
                    let (line, text) = &head[0];
                    return Err(Error::Undetected {
                        line: *line,
                        sample: super::tally::sample_text(text),
                        why,
                    });
                }
            }
        }
    };
    for (n, line) in &head {
        count(&format, &mut tally, *n, line, on_hit);
    }
    while let Some((n, line)) = reader.next_line()? {
        match line {
            Line::Text(t) => count(&format, &mut tally, n, t, on_hit),
            Line::TooLong(len) => tally.too_long(n, len),
        }
    }
    Ok(Scan {
        format,
        detected,
        tally,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::RejectReason;

    #[test]
    fn detects_then_counts_every_line() {
        let log = "\n1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl\"\nError line 1\n1.2.3.4 - - [01/Sep/2022:22:12:46 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl\"\n";
        let s = scan(log.as_bytes(), &FormatChoice::Auto).unwrap();
        assert_eq!((s.format, s.detected), (Format::Combined, true));
        assert_eq!((s.tally.parsed, s.tally.rejected, s.tally.blank), (2, 1, 1));
        assert_eq!(
            s.tally.reasons[&RejectReason::NoTimestamp].samples[0].line,
            3
        );
    }

    #[test]
    fn undetectable_input_says_which_line() {
        let err = scan(&b"hello\nworld\n"[..], &FormatChoice::Auto).unwrap_err();
        assert!(err.to_string().contains("line 1: \"hello\""), "{err}");
    }
}
