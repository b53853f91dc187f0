//! What an address says about a client before anything is stored: whether it lies in a datacenter
//! network (a browser there is a VPN, a proxy or, far more often, a script), and which /24 (IPv4)
//! or /48 (IPv6) network it belongs to, so that behaviour across neighbouring addresses can be
//! judged from salted hashes without keeping any address.
//!
//! The datacenter ranges are the X4BNet `lists_vpn` datacenter list (MIT), built from the announced
//! prefixes of about 900 hosting and cloud networks, plus a few networks of our own
//! (`data/datacenter-extra.txt`: Meta's, whose link scanner replays the clicker's agent); see
//! `data/README.md` for the versions.

use std::net::IpAddr;
use std::sync::OnceLock;

const IPV4: &str = include_str!("data/datacenter-ipv4.txt");
const IPV6: &str = include_str!("data/datacenter-ipv6.txt");
const EXTRA: &str = include_str!("data/datacenter-extra.txt");
const PRIVATE_RELAY: &str = include_str!("data/private-relay-ipv4.txt");

/// Sorted, merged address ranges (inclusive).
#[derive(Debug, Default)]
pub struct Ranges {
    v4: Vec<(u32, u32)>,
    /// For each /16 block `b`, the index of the first IPv4 range starting in or after it
    /// (65,537 entries): a lookup searches only the ranges that can hold the address.
    v4_blocks: Vec<u32>,
    v6: Vec<(u128, u128)>,
}

fn merge<T: Ord + Copy>(mut ranges: Vec<(T, T)>, next: impl Fn(T) -> Option<T>) -> Vec<(T, T)> {
    ranges.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if next(last.1).is_none_or(|n| a <= n) => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// An address as an unsigned integer: `u32` for IPv4, `u128` for IPv6.
trait Address: Copy + std::ops::BitAnd<Output = Self> + std::ops::BitOr<Output = Self> {
    const WIDTH: u32;
    /// The mask with the top `n` bits set (`n <= WIDTH`).
    fn prefix_mask(n: u32) -> Self;
    fn not(self) -> Self;
}

impl Address for u32 {
    const WIDTH: u32 = 32;
    fn prefix_mask(n: u32) -> u32 {
        u32::MAX.checked_shl(32 - n).unwrap_or(0)
    }
    fn not(self) -> u32 {
        !self
    }
}

impl Address for u128 {
    const WIDTH: u32 = 128;
    fn prefix_mask(n: u32) -> u128 {
        u128::MAX.checked_shl(128 - n).unwrap_or(0)
    }
    fn not(self) -> u128 {
        !self
    }
}

/// The inclusive bounds of `addr/bits` (no `bits`: the one address), or `None` when `bits`
/// exceeds the address width.
fn cidr<T: Address>(addr: T, bits: Option<u32>) -> Option<(T, T)> {
    let bits = bits.unwrap_or(T::WIDTH);
    if bits > T::WIDTH {
        return None;
    }
    let mask = T::prefix_mask(bits);
    let start = addr & mask;
    Some((start, start | mask.not()))
}

fn contains<T: Ord + Copy>(ranges: &[(T, T)], x: T) -> bool {
    let i = ranges.partition_point(|(a, _)| *a <= x);
    i > 0 && x <= ranges[i - 1].1
}

/// A line of a CIDR list that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {text:?} is not an address range such as 203.0.113.0/24 or 2001:db8::/32")]
pub struct RangeError {
    /// 1-based line number.
    pub line: usize,
    /// The line.
    pub text: String,
}

impl Ranges {
    /// Reads lists of CIDR ranges (`#` comments and blank lines skipped).
    pub fn parse(texts: &[&str]) -> Result<Ranges, RangeError> {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for text in texts {
            for (i, line) in text.lines().enumerate() {
                let line = line.split('#').next().unwrap_or("").trim();
                if line.is_empty() {
                    continue;
                }
                let err = || RangeError {
                    line: i + 1,
                    text: line.to_string(),
                };
                let (addr, bits) = line.split_once('/').unwrap_or((line, ""));
                let bits = (!bits.is_empty())
                    .then(|| bits.parse::<u32>())
                    .transpose()
                    .map_err(|_| err())?;
                match addr.parse::<IpAddr>().map_err(|_| err())? {
                    IpAddr::V4(a) => v4.push(cidr(u32::from(a), bits).ok_or_else(err)?),
                    IpAddr::V6(a) => v6.push(cidr(u128::from(a), bits).ok_or_else(err)?),
                }
            }
        }
        let v4 = merge(v4, |x: u32| x.checked_add(1));
        let v4_blocks = (0..=1u64 << 16)
            .map(|b| v4.partition_point(|(a, _)| u64::from(*a) < b << 16) as u32)
            .collect();
        Ok(Ranges {
            v4,
            v4_blocks,
            v6: merge(v6, |x: u128| x.checked_add(1)),
        })
    }

    /// The shipped datacenter list, parsed on first use.
    pub fn datacenters() -> &'static Ranges {
        static BUILT: OnceLock<Ranges> = OnceLock::new();
        BUILT
            .get_or_init(|| Ranges::parse(&[IPV4, IPV6, EXTRA]).expect("the shipped list is valid"))
    }

    /// Apple's iCloud Private Relay exits: inside datacenter networks, but people's Safari.
    pub fn private_relay() -> &'static Ranges {
        static BUILT: OnceLock<Ranges> = OnceLock::new();
        BUILT.get_or_init(|| Ranges::parse(&[PRIVATE_RELAY]).expect("the shipped list is valid"))
    }

    /// Whether an address lies in one of the ranges.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => self.contains_v4(u32::from(a)),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => self.contains_v4(u32::from(v4)),
                None => contains(&self.v6, u128::from(a)),
            },
        }
    }

    fn contains_v4(&self, x: u32) -> bool {
        if self.v4_blocks.is_empty() {
            return false; // Ranges::default()
        }
        let block = (x >> 16) as usize;
        // The range holding x starts in x's block, or is the last one starting before it.
        let lo = (self.v4_blocks[block] as usize).saturating_sub(1);
        let hi = self.v4_blocks[block + 1] as usize;
        contains(&self.v4[lo..hi], x)
    }

    /// The IPv4 ranges, sorted and merged (inclusive bounds).
    pub fn ipv4(&self) -> &[(u32, u32)] {
        &self.v4
    }

    #[cfg(test)]
    fn count(&self) -> (usize, usize) {
        (self.v4.len(), self.v6.len())
    }
}

/// Whether an address is in a datacenter network, and not one of Private Relay's exits.
pub fn is_datacenter(ip: IpAddr) -> bool {
    Ranges::datacenters().contains(ip) && !Ranges::private_relay().contains(ip)
}

/// An address written as text, if it is one (Apache may log host names).
pub fn parse_addr(addr: &[u8]) -> Option<IpAddr> {
    let s = std::str::from_utf8(addr).ok()?;
    let s = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(s);
    s.parse().ok()
}

/// The bytes that name an address's network: its /24 for IPv4, its /48 for IPv6, the whole text
/// for anything else (a host name is its own network).
pub fn network_key(addr: &[u8], ip: Option<IpAddr>) -> Vec<u8> {
    match ip {
        Some(IpAddr::V4(a)) => a.octets()[..3].to_vec(),
        Some(IpAddr::V6(a)) => match a.to_ipv4_mapped() {
            Some(v4) => v4.octets()[..3].to_vec(),
            None => a.octets()[..6].to_vec(),
        },
        None => addr.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_and_match_inclusively() {
        let r = Ranges::parse(&[
            "# c\n10.0.0.0/24\n10.0.1.0/24\n192.0.2.7\n",
            "2001:db8::/32\n",
        ])
        .unwrap();
        assert_eq!(r.count(), (2, 1), "adjacent /24s merge");
        for a in [
            "10.0.0.0",
            "10.0.1.255",
            "192.0.2.7",
            "2001:db8::1",
            "::ffff:10.0.0.9",
        ] {
            assert!(r.contains(a.parse().unwrap()), "{a}");
        }
        for a in ["10.0.2.0", "9.255.255.255", "192.0.2.8", "2001:db9::1"] {
            assert!(!r.contains(a.parse().unwrap()), "{a}");
        }
        assert_eq!(Ranges::parse(&["10.0.0.0/33\n"]).unwrap_err().line, 1);
        assert!(Ranges::parse(&["x\n"]).is_err());
    }

    #[test]
    fn the_block_index_finds_what_a_plain_search_finds() {
        let r =
            Ranges::parse(&["10.0.0.0/8\n11.1.0.0/16\n11.2.3.0/24\n12.255.255.255\n13.0.0.0/32\n"])
                .unwrap();
        let mut x: u32 = 7;
        for _ in 0..100_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let a = 0x0900_0000u32.wrapping_add(x % 0x0500_0000);
            assert_eq!(r.contains_v4(a), contains(&r.v4, a), "{a:#x}");
        }
        for a in [
            "10.255.255.255",
            "11.1.255.255",
            "11.2.3.9",
            "12.255.255.255",
            "13.0.0.0",
        ] {
            assert!(r.contains(a.parse().unwrap()), "{a}");
        }
        assert!(!r.contains("11.2.4.0".parse().unwrap()));
        assert!(Ranges::parse(&["0.0.0.0/0\n"])
            .unwrap()
            .contains("255.255.255.255".parse().unwrap()));
    }

    #[test]
    fn the_shipped_list_holds_the_big_clouds_and_not_home_networks() {
        let dc = Ranges::datacenters();
        assert!(dc.count().0 > 1000);
        // AWS us-east-1 and Azure (published ranges).
        assert!(dc.contains("3.80.0.1".parse().unwrap()));
        assert!(dc.contains("20.171.207.17".parse().unwrap()));
        assert!(dc.contains("69.171.249.5".parse().unwrap()), "Meta");
        // iCloud Private Relay exits are people's Safari.
        assert!(dc.contains("172.225.1.1".parse().unwrap()));
        assert!(!is_datacenter("172.225.1.1".parse().unwrap()));
        assert!(is_datacenter("3.80.0.1".parse().unwrap()));
        // Documentation and private ranges are nobody's datacenter.
        assert!(!dc.contains("192.0.2.1".parse().unwrap()));
        assert!(!dc.contains("10.1.2.3".parse().unwrap()));
    }

    #[test]
    fn networks_are_slash_24_and_slash_48() {
        let key = |s: &str| network_key(s.as_bytes(), parse_addr(s.as_bytes()));
        assert_eq!(key("203.0.113.9"), key("203.0.113.200"));
        assert_ne!(key("203.0.113.9"), key("203.0.114.9"));
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:ffff::2"));
        assert_eq!(key("[::ffff:203.0.113.9]"), key("203.0.113.1"));
        assert_eq!(key("host.example"), b"host.example".to_vec());
    }
}
