//! A file's identity independent of its name: a fingerprint of its first line, plus a marker
//! (a hash of the bytes just before the committed offset) that tells whether a file with that first
//! line really continues what was read. `access.log.1` and `access.log.2.gz` are thus recognised
//! as the file imported as `access.log`; a different file that happens to start with the same line
//! fails the marker check and is read from the start.

use std::hash::Hasher;

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
}
