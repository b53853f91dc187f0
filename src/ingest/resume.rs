//! Where reading a known file starts: the one rule `import` and `tail` share.
//!
//! A file is known by the fingerprint of its first line (Vector's file source fingerprints files
//! by a checksum of their first lines, not by their name). Several records may share a
//! fingerprint: rotated copies, or two logs that happen to start with the same line. The file
//! continues the first record, furthest read first, whose committed offset it reaches and whose
//! offset marker (a hash of the bytes just before that offset) it still holds: reading resumes
//! at that offset.
//!
//! A file shorter than a record's offset does not continue that record: it was truncated or
//! replaced, or it is another file with the same first line. That record is passed over, and
//! when no record is continued, the file is new content, read from 0. (Taking a shorter file as
//! "already read" made `import` skip every line appended to the shorter of two files with the
//! same first line; `tail` already passed such records over.)

use std::io;

use crate::store::files::FileRecord;

/// The record a file of `size` bytes continues, if any: the first of `candidates` (the records
/// with its fingerprint, furthest read first, as `store::files::candidates` returns them) whose
/// offset is at most `size` and whose marker `marker_at(offset, marker_len)` still gives, or of
/// which nothing was committed yet. `marker_at` returns `None` when the file ends before the
/// offset. `None`: read the file from 0 as new content.
pub fn continued(
    size: u64,
    candidates: impl IntoIterator<Item = FileRecord>,
    mut marker_at: impl FnMut(u64, u32) -> io::Result<Option<(u32, i64)>>,
) -> io::Result<Option<FileRecord>> {
    for c in candidates {
        if c.offset > size {
            continue;
        }
        // Nothing committed yet: any file with the fingerprint continues it (`store::files::create`
        // hands such a record to whoever reads the file next, so two readers share it).
        if c.offset == 0 || marker_at(c.offset, c.marker_len)? == Some((c.marker_len, c.marker)) {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::identity::{self, MARKER_BYTES};

    /// A record of `content` read up to `offset`.
    fn record(id: i64, content: &[u8], offset: usize) -> FileRecord {
        let (marker_len, marker) = identity::marker(&content[..offset]);
        FileRecord {
            id,
            path: format!("file{id}"),
            fingerprint: identity::fingerprint(content).unwrap(),
            offset: offset as u64,
            lines: content[..offset].iter().filter(|c| **c == b'\n').count() as u64,
            marker_len,
            marker,
        }
    }

    /// The rule applied to a file holding `content`.
    fn start(content: &[u8], candidates: Vec<FileRecord>) -> Option<i64> {
        let marker_at = |offset: u64, len: u32| {
            let offset = offset as usize;
            Ok((offset <= content.len()).then(|| {
                let len = (len as usize).min(offset);
                identity::marker(&content[offset - len..offset])
            }))
        };
        continued(content.len() as u64, candidates, marker_at)
            .unwrap()
            .map(|c| c.id)
    }

    #[test]
    fn a_file_that_grew_resumes_at_its_offset() {
        let old = b"first\nsecond\n";
        let grown = b"first\nsecond\nthird\n";
        assert_eq!(start(grown, vec![record(1, old, old.len())]), Some(1));
        assert_eq!(start(old, vec![record(1, old, old.len())]), Some(1));
    }

    #[test]
    fn a_file_shorter_than_the_offset_is_read_from_0() {
        let old = b"first\nsecond\nthird\n";
        // Truncated and rewritten with the same first line, shorter than what was read.
        assert_eq!(
            start(b"first\nnew\n", vec![record(1, old, old.len())]),
            None
        );
    }

    #[test]
    fn a_record_with_nothing_committed_is_continued() {
        let content = b"first\nsecond\n";
        let empty = FileRecord {
            marker_len: 0,
            marker: 0,
            ..record(1, content, 0)
        };
        assert_eq!(start(content, vec![empty]), Some(1));
    }

    #[test]
    fn a_changed_marker_means_new_content() {
        let old = b"first\nsecond\n";
        let rewritten = b"first\nSECOND\nthird\n";
        assert_eq!(start(rewritten, vec![record(1, old, old.len())]), None);
    }

    #[test]
    fn the_shorter_of_two_files_with_one_first_line_continues_its_own_record() {
        let long = b"same\nlong one\nlong two\nlong three\n";
        let short = b"same\nb\n";
        let grown = b"same\nb\nc\n";
        // Furthest read first: the long file's record is passed over, not taken as "done".
        let candidates = vec![record(1, long, long.len()), record(2, short, short.len())];
        assert_eq!(start(grown, candidates), Some(2));
    }

    #[test]
    fn only_the_marker_window_before_the_offset_counts() {
        let mut old = vec![b'a'; 10];
        old.push(b'\n');
        old.extend(std::iter::repeat_n(b'x', 2 * MARKER_BYTES));
        old.push(b'\n');
        let mut changed_early = old.clone();
        // A byte before the marker's window differs: the check cannot see it (a hash of the
        // whole prefix would cost a read of it at every start).
        changed_early[20] = b'y';
        changed_early.extend_from_slice(b"more\n");
        assert_eq!(
            start(&changed_early, vec![record(1, &old, old.len())]),
            Some(1)
        );
    }
}
