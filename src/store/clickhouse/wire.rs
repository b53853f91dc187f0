//! ClickHouse's `RowBinary` rows, both ways: numbers little-endian at their column's width,
//! strings as their length (LEB128) and bytes, a `Date` as days since 1970 in two bytes.

/// One row being written.
pub struct Binary<'a>(pub &'a mut Vec<u8>);

impl Binary<'_> {
    /// The `Date` of a Unix time in milliseconds (UTC).
    pub fn date_of_ms(&mut self, ts_ms: i64) {
        self.day(ts_ms.div_euclid(86_400_000));
    }

    /// A `Date` given as days since 1970-01-01.
    pub fn day(&mut self, days: i64) {
        let days = days.clamp(0, i64::from(u16::MAX)) as u16;
        self.0.extend_from_slice(&days.to_le_bytes());
    }

    /// An `Int64`.
    pub fn i64(&mut self, n: i64) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }

    /// A `UInt64`.
    pub fn u64(&mut self, n: u64) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }

    /// A `UInt32`.
    pub fn u32(&mut self, n: u32) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }

    /// A `UInt16`.
    pub fn u16(&mut self, n: u16) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }

    /// A `UInt8`.
    pub fn u8(&mut self, n: u8) {
        self.0.push(n);
    }

    /// A `String` of any bytes.
    pub fn bytes(&mut self, s: &[u8]) {
        let mut len = s.len() as u64;
        loop {
            let byte = (len & 0x7f) as u8;
            len >>= 7;
            if len == 0 {
                self.0.push(byte);
                break;
            }
            self.0.push(byte | 0x80);
        }
        self.0.extend_from_slice(s);
    }

    /// A `String`.
    pub fn text(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
}

/// The answer ended inside a row: the server sent other columns than asked for.
#[derive(Debug, thiserror::Error)]
#[error("its RowBinary answer ended inside a row, at byte {0}")]
pub struct Truncated(pub usize);

/// Rows being read, in the order of the query's columns.
pub struct Rows<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Rows<'a> {
    /// Reads `data`, an answer `FORMAT RowBinary`.
    pub fn new(data: &'a [u8]) -> Rows<'a> {
        Rows { data, at: 0 }
    }

    /// Whether another row follows.
    pub fn more(&self) -> bool {
        self.at < self.data.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Truncated> {
        let end = self.at.checked_add(n).ok_or(Truncated(self.at))?;
        let s = self.data.get(self.at..end).ok_or(Truncated(self.at))?;
        self.at = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Truncated> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }

    /// An `Int64`.
    pub fn i64(&mut self) -> Result<i64, Truncated> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// A `UInt64`.
    pub fn u64(&mut self) -> Result<u64, Truncated> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A `UInt32`.
    pub fn u32(&mut self) -> Result<u32, Truncated> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// A `UInt16`, or a `Date` as days since 1970.
    pub fn u16(&mut self) -> Result<u16, Truncated> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    /// A `UInt8`.
    pub fn u8(&mut self) -> Result<u8, Truncated> {
        Ok(self.take(1)?[0])
    }

    /// A `String`'s bytes.
    pub fn bytes(&mut self) -> Result<&'a [u8], Truncated> {
        let mut len: u64 = 0;
        let mut shift = 0;
        loop {
            let b = self.u8()?;
            len |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 63 {
                return Err(Truncated(self.at));
            }
        }
        self.take(usize::try_from(len).map_err(|_| Truncated(self.at))?)
    }

    /// A `String`, as text (bytes that are no UTF-8 replaced).
    pub fn text(&mut self) -> Result<String, Truncated> {
        Ok(String::from_utf8_lossy(self.bytes()?).into_owned())
    }
}

/// `s` as a quoted ClickHouse string literal.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_back_as_written() {
        let mut buf = Vec::new();
        let mut w = Binary(&mut buf);
        w.i64(-5);
        w.text(&"x".repeat(300));
        w.u16(404);
        w.bytes(&[0, 255, 7]);
        w.u8(9);
        w.u32(70_000);
        w.u64(u64::MAX);
        let mut r = Rows::new(&buf);
        assert_eq!(r.i64().unwrap(), -5);
        assert_eq!(r.text().unwrap(), "x".repeat(300));
        assert_eq!(r.u16().unwrap(), 404);
        assert_eq!(r.bytes().unwrap(), &[0, 255, 7]);
        assert_eq!(r.u8().unwrap(), 9);
        assert_eq!(r.u32().unwrap(), 70_000);
        assert_eq!(r.u64().unwrap(), u64::MAX);
        assert!(!r.more());
        assert!(r.u8().is_err());
        let cut = &buf[..4];
        assert!(Rows::new(cut).i64().is_err());
    }

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(quoted(r"it's \ here"), r"'it\'s \\ here'");
    }
}
