//! Country of a client address, from a MaxMind GeoLite2/GeoIP2 Country or DB-IP Lite database
//! (`.mmdb`), looked up at ingest: the address is never stored, so it cannot be done later.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::geoip2;

/// The database could not be used.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the GeoIP database {path}: {source}; pass a GeoLite2-Country or DB-IP country .mmdb file")]
pub struct Error {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub source: maxminddb::MaxMindDbError,
}

/// A loaded country database.
pub struct GeoIp {
    reader: maxminddb::Reader<Vec<u8>>,
}

/// A country code packed for the `events.country` column: `(first << 8) | second`.
pub type CountryCode = u16;

/// Packs `DE` as an integer; `None` for anything but two ASCII letters.
pub fn pack(iso: &str) -> Option<CountryCode> {
    match iso.as_bytes() {
        [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
            Some(((a.to_ascii_uppercase() as u16) << 8) | b.to_ascii_uppercase() as u16)
        }
        _ => None,
    }
}

/// Unpacks a stored country code.
pub fn unpack(code: i64) -> Option<String> {
    let (a, b) = (((code >> 8) & 0xff) as u8, (code & 0xff) as u8);
    (a.is_ascii_uppercase() && b.is_ascii_uppercase())
        .then(|| format!("{}{}", a as char, b as char))
}

impl GeoIp {
    /// Loads a database file.
    pub fn open(path: &Path) -> Result<GeoIp, Error> {
        let reader = maxminddb::Reader::open_readfile(path).map_err(|source| Error {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(GeoIp { reader })
    }

    /// The country of an address written as text (`203.0.113.9`, `2001:db8::1`), if known.
    pub fn country(&self, addr: &[u8]) -> Option<CountryCode> {
        let ip: IpAddr = std::str::from_utf8(addr).ok()?.parse().ok()?;
        let found = self.reader.lookup(ip).ok()?;
        let country: geoip2::Country = found.decode().ok()??;
        pack(country.country.iso_code?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        assert_eq!(
            pack("de").and_then(|c| unpack(c as i64)).as_deref(),
            Some("DE")
        );
        assert_eq!(pack("DEU"), None);
        assert_eq!(unpack(0), None);
    }

    #[test]
    fn a_missing_file_names_itself() {
        let err = GeoIp::open(Path::new("/nonexistent/GeoLite2-Country.mmdb"))
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("/nonexistent/GeoLite2-Country.mmdb"),
            "{err}"
        );
    }
}
