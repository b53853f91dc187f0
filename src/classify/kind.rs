//! Request method codes and the page / asset / other split.
//!
//! A page view is a GET of a non-asset path answered 2xx or 304 (DESIGN.md, Definitions); assets are
//! recognised by extension, whatever the status, so a missing image never counts as a page.

/// Request method, stored as a small integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Method {
    /// No method: the request line was garbage or `-`.
    None = 0,
    Get = 1,
    Head = 2,
    Post = 3,
    Put = 4,
    Delete = 5,
    Options = 6,
    Patch = 7,
    Connect = 8,
    Trace = 9,
    /// Any other token.
    Other = 10,
}

impl Method {
    /// The code for a method token.
    pub fn from_bytes(m: Option<&[u8]>) -> Method {
        match m {
            None => Method::None,
            Some(b"GET") => Method::Get,
            Some(b"HEAD") => Method::Head,
            Some(b"POST") => Method::Post,
            Some(b"PUT") => Method::Put,
            Some(b"DELETE") => Method::Delete,
            Some(b"OPTIONS") => Method::Options,
            Some(b"PATCH") => Method::Patch,
            Some(b"CONNECT") => Method::Connect,
            Some(b"TRACE") => Method::Trace,
            Some(_) => Method::Other,
        }
    }
}

/// What a request was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A page view (before bot filtering).
    Page = 0,
    /// A static asset: stylesheet, script, image, font, media, download.
    Asset = 1,
    /// Anything else: other methods, error statuses on pages, garbage requests.
    Other = 2,
}

/// Extensions of static assets (lowercase).
pub const ASSET_EXTENSIONS: &[&str] = &[
    "css",
    "js",
    "mjs",
    "map",
    "json",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "svg",
    "ico",
    "webp",
    "avif",
    "bmp",
    "tif",
    "tiff",
    "woff",
    "woff2",
    "ttf",
    "otf",
    "eot",
    "mp4",
    "webm",
    "ogg",
    "mp3",
    "wav",
    "m4a",
    "pdf",
    "zip",
    "gz",
    "tgz",
    "bz2",
    "xz",
    "7z",
    "rar",
    "tar",
    "dmg",
    "exe",
    "msi",
    "deb",
    "rpm",
    "apk",
    "iso",
    "wasm",
    "txt",
    "xml",
    "csv",
    "webmanifest",
];

/// The extension of the last path segment, if it has one.
fn extension(path: &[u8]) -> Option<&[u8]> {
    let last = match memchr::memrchr(b'/', path) {
        Some(p) => &path[p + 1..],
        None => path,
    };
    let dot = memchr::memrchr(b'.', last)?;
    let ext = &last[dot + 1..];
    (!ext.is_empty() && ext.len() <= 11).then_some(ext)
}

/// Whether a path names a static asset.
pub fn is_asset(path: &[u8]) -> bool {
    extension(path).is_some_and(|e| {
        ASSET_EXTENSIONS
            .iter()
            .any(|a| a.as_bytes().eq_ignore_ascii_case(e))
    })
}

/// Classifies a request.
pub fn kind(method: Method, status: u16, path: Option<&[u8]>) -> Kind {
    let Some(path) = path else { return Kind::Other };
    if is_asset(path) {
        Kind::Asset
    } else if method == Method::Get && ((200..300).contains(&status) || status == 304) {
        Kind::Page
    } else {
        Kind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_assets_and_others() {
        assert_eq!(kind(Method::Get, 200, Some(b"/blog/post")), Kind::Page);
        assert_eq!(kind(Method::Get, 304, Some(b"/")), Kind::Page);
        assert_eq!(
            kind(Method::Get, 200, Some(b"/v1.2/docs")),
            Kind::Page,
            "a dot in a folder is no extension"
        );
        assert_eq!(kind(Method::Get, 404, Some(b"/img/logo.PNG")), Kind::Asset);
        assert_eq!(kind(Method::Get, 404, Some(b"/missing")), Kind::Other);
        assert_eq!(kind(Method::Post, 200, Some(b"/contact")), Kind::Other);
        assert_eq!(kind(Method::Head, 200, Some(b"/")), Kind::Other);
        assert_eq!(kind(Method::None, 400, None), Kind::Other);
    }

    #[test]
    fn method_codes() {
        assert_eq!(Method::from_bytes(Some(b"GET")), Method::Get);
        assert_eq!(Method::from_bytes(Some(b"PROPFIND")), Method::Other);
        assert_eq!(Method::from_bytes(None), Method::None);
    }
}
