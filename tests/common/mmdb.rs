//! Builds a tiny MaxMind DB (format 2.0, IPv4 tree, 24-bit records) mapping networks to country
//! codes, so GeoIP tests need no downloaded database. Layout per the MaxMind DB spec: search tree,
//! 16 zero bytes, data section, then `\xAB\xCD\xEFMaxMind.com` and the metadata map.

use std::collections::HashMap;

enum Rec {
    Empty,
    Node(usize),
    Data(usize),
}

fn string(out: &mut Vec<u8>, s: &str) {
    assert!(s.len() < 29);
    out.push(0x40 | s.len() as u8);
    out.extend_from_slice(s.as_bytes());
}

fn map(out: &mut Vec<u8>, pairs: usize) {
    out.push(0xE0 | pairs as u8);
}

fn uint(out: &mut Vec<u8>, type_bits: u8, value: u64) {
    let bytes: Vec<u8> = value
        .to_be_bytes()
        .iter()
        .copied()
        .skip_while(|b| *b == 0)
        .collect();
    match type_bits {
        5 | 6 => out.push((type_bits << 5) | bytes.len() as u8),
        ext => {
            out.push(bytes.len() as u8);
            out.push(ext - 7);
        }
    }
    out.extend_from_slice(&bytes);
}

/// A database where each `(network, prefix length, iso code)` maps to that country.
pub fn country_db(networks: &[(&str, u32, &str)]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut offsets: HashMap<&str, usize> = HashMap::new();
    for (_, _, iso) in networks {
        offsets.entry(iso).or_insert_with(|| {
            let at = data.len();
            map(&mut data, 1);
            string(&mut data, "country");
            map(&mut data, 1);
            string(&mut data, "iso_code");
            string(&mut data, iso);
            at
        });
    }
    let mut nodes: Vec<[Rec; 2]> = vec![[Rec::Empty, Rec::Empty]];
    for (net, prefix, iso) in networks {
        let ip = u32::from(net.parse::<std::net::Ipv4Addr>().unwrap());
        let mut node = 0;
        for i in 0..*prefix {
            let bit = ((ip >> (31 - i)) & 1) as usize;
            if i + 1 == *prefix {
                nodes[node][bit] = Rec::Data(offsets[iso]);
            } else if let Rec::Node(n) = nodes[node][bit] {
                node = n;
            } else {
                nodes.push([Rec::Empty, Rec::Empty]);
                let n = nodes.len() - 1;
                nodes[node][bit] = Rec::Node(n);
                node = n;
            }
        }
    }
    let count = nodes.len();
    let mut out = Vec::new();
    for pair in &nodes {
        for r in pair {
            let v = match r {
                Rec::Empty => count,
                Rec::Node(n) => *n,
                Rec::Data(off) => count + 16 + off,
            } as u32;
            out.extend_from_slice(&v.to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    map(&mut out, 9);
    string(&mut out, "node_count");
    uint(&mut out, 6, count as u64);
    string(&mut out, "record_size");
    uint(&mut out, 5, 24);
    string(&mut out, "ip_version");
    uint(&mut out, 5, 4);
    string(&mut out, "database_type");
    string(&mut out, "Test-Country");
    string(&mut out, "languages");
    out.push(1); // array (extended type 11) of one
    out.push(11 - 7);
    string(&mut out, "en");
    string(&mut out, "binary_format_major_version");
    uint(&mut out, 5, 2);
    string(&mut out, "binary_format_minor_version");
    uint(&mut out, 5, 0);
    string(&mut out, "build_epoch");
    uint(&mut out, 9, 1_700_000_000);
    string(&mut out, "description");
    map(&mut out, 1);
    string(&mut out, "en");
    string(&mut out, "test database");
    out
}
