//! A file's identity independent of its name: a fingerprint of its first line, plus a marker
//! (a hash of the bytes just before the committed offset) that tells whether a file with that first
//! line really continues what was read. `access.log.1` and `access.log.2.gz` are thus recognised
//! as the file imported as `access.log`; a different file that happens to start with the same line
//! fails the marker check and is read from the start.

use std::fs::File;
use std::hash::Hasher;
use std::io;
use std::os::unix::fs::FileExt;

use siphasher::sip::SipHasher13;

/// Bytes before the offset covered by the marker.
pub const MARKER_BYTES: usize = 256;
/// The most of a first line used for the fingerprint.
pub const FINGERPRINT_BYTES: usize = 4096;

fn hash(bytes: &[u8]) -> i64 {
    let mut h = SipHasher13::new_with_keys(0x6c6f_6774_616c_6c79, 0x6669_6e67_6572_7072);
    h.write(bytes);
    h.finish() as i64
}

/// The fingerprint of a file whose content starts with `head`: a hash of its first line (with its
/// `\n`, at most [`FINGERPRINT_BYTES`]). `None` while the first line is incomplete.
pub fn fingerprint(head: &[u8]) -> Option<i64> {
    let window = &head[..head.len().min(FINGERPRINT_BYTES)];
    match memchr::memchr(b'\n', window) {
        Some(nl) => Some(hash(&window[..=nl])),
        None if window.len() == FINGERPRINT_BYTES => Some(hash(window)),
        None => None,
    }
}

/// The marker of the bytes ending at an offset: `(length, hash)` of the last [`MARKER_BYTES`].
pub fn marker(before_offset: &[u8]) -> (u32, i64) {
    let tail = &before_offset[before_offset.len().saturating_sub(MARKER_BYTES)..];
    (tail.len() as u32, hash(tail))
}

/// The marker of the bytes of `file` ending at `offset`: its last `len` of them (all of them when
/// `offset` is smaller). `None` when the file ends before `offset`.
pub fn marker_in(file: &File, offset: u64, len: u32) -> io::Result<Option<(u32, i64)>> {
    let len = u64::from(len).min(offset);
    let mut buf = vec![0u8; len as usize];
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], offset - len + got as u64) {
            Ok(0) => return Ok(None),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(marker(&buf)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_needs_a_whole_first_line() {
        assert_eq!(fingerprint(b"abc"), None);
        assert_eq!(fingerprint(b"abc\nxyz"), fingerprint(b"abc\nother"));
        assert_ne!(fingerprint(b"abc\n"), fingerprint(b"abd\n"));
        assert!(
            fingerprint(&vec![b'a'; 5000]).is_some(),
            "a first line longer than the window still counts"
        );
    }

    #[test]
    fn marker_covers_the_tail() {
        let a = vec![1u8; 1000];
        let mut b = vec![2u8; 744];
        b.extend_from_slice(&[1u8; 256]);
        assert_eq!(marker(&a), marker(&b));
        assert_eq!(marker(b"short").0, 5);
    }

    #[test]
    fn marker_in_reads_the_bytes_before_the_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, b"one\ntwo\nthree\n").unwrap();
        let f = File::open(&path).unwrap();
        assert_eq!(marker_in(&f, 8, 256).unwrap(), Some(marker(b"one\ntwo\n")));
        assert_eq!(marker_in(&f, 8, 4).unwrap(), Some(marker(b"two\n")));
        assert_eq!(marker_in(&f, 0, 256).unwrap(), Some(marker(b"")));
        assert_eq!(marker_in(&f, 15, 256).unwrap(), None, "past the end");
    }
}
