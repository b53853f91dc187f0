//! The CSV files of an export, from a `.zip`, a folder or the files themselves, with the
//! digest that tells one export from another whatever its files are named.

use std::io::Read;
use std::path::Path;

use super::table::Refused;

/// One CSV file of an export.
#[derive(Clone, Debug)]
pub struct CsvFile {
    /// Where it was read from, as errors name it (`export.zip:imported_pages.csv`).
    pub name: String,
    /// Its contents.
    pub bytes: Vec<u8>,
    /// Its header's fields.
    pub header: Vec<String>,
}

/// Files larger than this inside a `.zip` are refused (a zip bomb must not fill memory).
const MAX_ENTRY_BYTES: u64 = 4 << 30;

/// A CSV file of `bytes`, its header's names trimmed and lowercased with `_` for spaces and
/// dashes (`Referrer scheme` is `referrer_scheme`), as exports of different versions spell them.
pub fn csv_file(name: String, bytes: Vec<u8>) -> Result<CsvFile, Refused> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&bytes[..]);
    let header = match reader.records().next() {
        Some(Ok(r)) => r
            .iter()
            .map(|f| {
                f.trim_start_matches('\u{feff}')
                    .trim()
                    .to_lowercase()
                    .replace([' ', '-'], "_")
            })
            .collect(),
        Some(Err(e)) => return Err(Refused::at(&name, 1, None, e.to_string())),
        None => return Err(Refused::at(&name, 1, None, "the file is empty".into())),
    };
    Ok(CsvFile {
        name,
        bytes,
        header,
    })
}

fn read_zip(path: &Path) -> Result<Vec<CsvFile>, Refused> {
    let shown = path.display().to_string();
    let open = std::fs::File::open(path).map_err(|e| Refused::whole(&shown, e.to_string()))?;
    let mut zip = zip::ZipArchive::new(open)
        .map_err(|e| Refused::whole(&shown, format!("not a readable .zip: {e}")))?;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| Refused::whole(&shown, e.to_string()))?;
        let name = entry
            .name()
            .map_err(|e| Refused::whole(&shown, e.to_string()))?
            .to_string();
        if entry.is_dir() || !name.to_ascii_lowercase().ends_with(".csv") {
            continue;
        }
        let shown = format!("{shown}:{name}");
        if entry.size() > MAX_ENTRY_BYTES {
            return Err(Refused::whole(&shown, "larger than 4 GiB".into()));
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| Refused::whole(&shown, e.to_string()))?;
        out.push(csv_file(shown, bytes)?);
    }
    Ok(out)
}

/// The CSV files of `paths`: each a `.zip` (its `.csv` entries), a folder (its `.csv` files) or
/// a CSV file.
pub fn gather(paths: &[std::path::PathBuf]) -> Result<Vec<CsvFile>, Refused> {
    let mut out = Vec::new();
    for path in paths {
        let shown = path.display().to_string();
        if path.is_dir() {
            let mut names: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| Refused::whole(&shown, e.to_string()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv")))
                .collect();
            names.sort();
            for p in names {
                let bytes = std::fs::read(&p)
                    .map_err(|e| Refused::whole(&p.display().to_string(), e.to_string()))?;
                out.push(csv_file(p.display().to_string(), bytes)?);
            }
        } else if path
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("zip"))
        {
            out.extend(read_zip(path)?);
        } else {
            let bytes = std::fs::read(path).map_err(|e| Refused::whole(&shown, e.to_string()))?;
            out.push(csv_file(shown, bytes)?);
        }
    }
    if out.is_empty() {
        return Err(Refused::whole(
            &paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            "holds no CSV files".into(),
        ));
    }
    Ok(out)
}

/// The digest of an export: of its files' contents, in an order that does not depend on their
/// names (a `.zip` and the same files unpacked are one export).
pub fn digest(files: &[CsvFile]) -> String {
    use siphasher::sip128::{Hasher128, SipHasher13};
    use std::hash::Hasher;
    let mut each: Vec<u128> = files
        .iter()
        .map(|f| {
            let mut h = SipHasher13::new();
            h.write(&f.bytes);
            h.finish128().as_u128()
        })
        .collect();
    each.sort_unstable();
    let mut all = SipHasher13::new();
    for x in each {
        all.write_u128(x);
    }
    format!("{:032x}", all.finish128().as_u128())
}
