//! Request method codes and the page / asset / other split.
//!
//! A page view is what Plausible counts: a person's browser loading an HTML document, so a GET of a
//! page path answered 2xx or 304 (DESIGN.md, Definitions). Assets (every image, font, media,
//! stylesheet, script and download extension, and extension-less files under the usual static
//! folders) are recognised whatever the status, so a missing image never counts as a page. API and
//! JSON endpoints, feeds, sitemaps, `xmlrpc`, `wp-json`, `socket.io`, `*ajax*`, admin and login
//! areas are neither: they are `Other`. `page_include`/`page_exclude` patterns in the configuration
//! decide the rest. Rules see the normalised path (`classify::path::normalise`: `//` collapsed).

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
    /// Anything else: API calls, feeds, admin areas, other methods, error statuses on pages,
    /// garbage requests.
    Other = 2,
}

impl Kind {
    /// The kind of a stored code (`Other` for any unknown one).
    pub fn from_code(code: u8) -> Kind {
        match code {
            0 => Kind::Page,
            1 => Kind::Asset,
            _ => Kind::Other,
        }
    }
}

/// What a path names, whatever the method and status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathClass {
    /// An HTML document people read.
    Page,
    /// A static file a page loads or links to.
    Asset,
    /// An endpoint that is not a page: API, feed, sitemap, admin or login area...
    NotPage,
}

/// Extensions (lowercase) of what a page loads by itself: styles and scripts (and the data and
/// code they fetch), images, fonts, audio and video with their streaming segments.
const CODE: &[&str] = &[
    "css",
    "js",
    "mjs",
    "cjs",
    "map",
    "json",
    "jsonld",
    "webmanifest",
    "wasm",
];
#[rustfmt::skip]
const IMAGES: &[&str] = &[
    "png", "jpg", "jpeg", "jpe", "jfif", "pjpeg", "pjp", "gif", "svg", "svgz", "ico", "cur", "webp",
    "avif", "heic", "heif", "jxl", "apng", "bmp", "tif", "tiff", "psd",
];
const FONTS: &[&str] = &["woff", "woff2", "ttf", "otf", "eot"];
#[rustfmt::skip]
const MEDIA: &[&str] = &[
    "mp4", "m4v", "webm", "ogg", "ogv", "oga", "opus", "mp3", "wav", "flac", "aac", "m4a", "mov",
    "avi", "mkv", "flv", "swf", "ts", "m3u8", "m3u", "mpd", "m4s",
];
/// Extensions of files a page links to, and of the files crawlers ask for.
#[rustfmt::skip]
const DOWNLOADS: &[&str] = &[
    "pdf", "zip", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar", "tar", "dmg", "exe", "msi", "deb",
    "rpm", "apk", "iso", "img", "epub", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt",
];
const DATA: &[&str] = &[
    "txt", "xml", "csv", "rss", "atom", "ics", "vcf", "gpx", "kml",
];

/// Every static asset: never a page view, whatever its status.
const ASSETS: &[&[&str]] = &[CODE, IMAGES, FONTS, MEDIA, DOWNLOADS, DATA];
/// Assets a page loads by itself: asking for one with the page as referrer is a browser at work.
/// Documents, downloads and the files crawlers ask for (`robots.txt`, `ads.txt`, sitemaps) are not
/// among them.
const SUBRESOURCES: &[&[&str]] = &[CODE, IMAGES, FONTS, MEDIA];

fn listed(groups: &[&[&str]], ext: &[u8]) -> bool {
    groups
        .iter()
        .any(|g| g.iter().any(|a| a.as_bytes().eq_ignore_ascii_case(ext)))
}

/// First path segments under which files are served without extension (image resizers, static
/// folders): `/images/123`, `/_next/image`, `/wp-content/uploads/...`.
const ASSET_FOLDERS: &[&str] = &[
    "static",
    "assets",
    "asset",
    "images",
    "image",
    "img",
    "imgs",
    "media",
    "thumb",
    "thumbs",
    "thumbnail",
    "thumbnails",
    "avatar",
    "avatars",
    "fonts",
    "font",
    "css",
    "js",
    "dist",
    "build",
    "uploads",
    "_next",
    "wp-content",
    "wp-includes",
    "cdn-cgi",
    "favicon",
];

/// Path segments that mark an endpoint that is not a page (API, feeds, admin and login areas,
/// live connections, health checks).
const NOT_PAGE_SEGMENTS: &[&str] = &[
    "api",
    "graphql",
    "wp-json",
    "xmlrpc.php",
    "feed",
    "feeds",
    "rss",
    "atom",
    "socket.io",
    "sockjs",
    "ws",
    "websocket",
    "wp-admin",
    "admin",
    "administrator",
    "login",
    "logout",
    "signin",
    "sign-in",
    "signout",
    "auth",
    "oauth",
    "oauth2",
    "wp-login.php",
    "wp-cron.php",
    ".well-known",
    "cgi-bin",
    "health",
    "healthz",
    "healthcheck",
    "metrics",
    "ping",
    "status",
    "server-status",
    "autodiscover",
    "rest",
    "jsonrpc",
    "__webpack_hmr",
    "hybridaction",
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

/// Whether a path names a static asset by its extension.
pub fn is_asset(path: &[u8]) -> bool {
    extension(path).is_some_and(|e| listed(ASSETS, e))
}

/// Whether an asset path is one a page loads by itself (`SUBRESOURCES`); an asset without
/// extension (under a static folder) is.
pub fn is_subresource(path: &[u8]) -> bool {
    extension(path).is_none_or(|e| listed(SUBRESOURCES, e))
}

/// Whether a request tells what a site's browsers load (the facts of `store::facts`, counted at
/// ingest and by `check --bots` alike): a subresource with a referrer, from a client no request
/// rule flagged (`bot` 0).
pub fn is_referred_subresource(bot: u8, kind: Kind, referred: bool, path: Option<&[u8]>) -> bool {
    bot == 0 && kind == Kind::Asset && referred && path.is_some_and(is_subresource)
}

fn one_of(segment: &str, list: &[&str]) -> bool {
    list.iter().any(|s| s.eq_ignore_ascii_case(segment))
}

/// What a (normalised) path names under the built-in rules.
pub fn path_class(path: &str) -> PathClass {
    if is_asset(path.as_bytes()) {
        return PathClass::Asset;
    }
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    if segments
        .clone()
        .next()
        .is_some_and(|s| one_of(s, ASSET_FOLDERS))
    {
        return PathClass::Asset;
    }
    let lower = path.to_ascii_lowercase();
    if lower.contains("ajax")
        || lower.contains("sitemap")
        || segments.any(|s| one_of(s, NOT_PAGE_SEGMENTS))
    {
        return PathClass::NotPage;
    }
    PathClass::Page
}

/// The built-in rules and the configuration's `page_include` / `page_exclude` glob patterns
/// (an include wins over the built-in rules, an exclude over both).
#[derive(Clone, Debug, Default)]
pub struct PageRules {
    include: Vec<glob::Pattern>,
    exclude: Vec<glob::Pattern>,
}

impl PageRules {
    /// Rules with these patterns (checked by the configuration loader).
    pub fn new(include: &[String], exclude: &[String]) -> Result<PageRules, glob::PatternError> {
        let compile = |list: &[String]| -> Result<Vec<glob::Pattern>, glob::PatternError> {
            list.iter().map(|p| glob::Pattern::new(p)).collect()
        };
        Ok(PageRules {
            include: compile(include)?,
            exclude: compile(exclude)?,
        })
    }

    /// What a normalised path names.
    pub fn class(&self, path: &str) -> PathClass {
        if self.exclude.iter().any(|p| p.matches(path)) {
            return PathClass::NotPage;
        }
        if self.include.iter().any(|p| p.matches(path)) {
            return PathClass::Page;
        }
        path_class(path)
    }
}

/// Classifies a request from its method, status and the class of its path (`None`: no path).
pub fn kind(method: Method, status: u16, class: Option<PathClass>) -> Kind {
    match class {
        None | Some(PathClass::NotPage) => Kind::Other,
        Some(PathClass::Asset) => Kind::Asset,
        Some(PathClass::Page)
            if method == Method::Get && ((200..300).contains(&status) || status == 304) =>
        {
            Kind::Page
        }
        Some(PathClass::Page) => Kind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(method: Method, status: u16, path: &str) -> Kind {
        kind(method, status, Some(path_class(path)))
    }

    #[test]
    fn pages_assets_and_others() {
        assert_eq!(k(Method::Get, 200, "/blog/post"), Kind::Page);
        assert_eq!(k(Method::Get, 304, "/"), Kind::Page);
        assert_eq!(k(Method::Get, 200, "/index.php"), Kind::Page);
        assert_eq!(
            k(Method::Get, 200, "/v1.2/docs"),
            Kind::Page,
            "a dot in a folder is no extension"
        );
        assert_eq!(k(Method::Get, 404, "/img/logo.PNG"), Kind::Asset);
        assert_eq!(k(Method::Get, 404, "/missing"), Kind::Other);
        assert_eq!(k(Method::Post, 200, "/contact"), Kind::Other);
        assert_eq!(k(Method::Head, 200, "/"), Kind::Other);
        assert_eq!(kind(Method::None, 400, None), Kind::Other);
    }

    #[test]
    fn every_image_font_and_media_file_is_an_asset() {
        for p in [
            "/a.jpe",
            "/a.jfif",
            "/a.heic",
            "/a.avif",
            "/a.jxl",
            "/f.woff2",
            "/v/seg-001.ts",
            "/v/index.m3u8",
            "/v/a.mpd",
            "/feed.rss",
            "/images/12345",
            "/_next/image",
            "/wp-content/uploads/2024/05/photo",
            "/static/bundle",
        ] {
            assert_eq!(path_class(p), PathClass::Asset, "{p}");
        }
    }

    #[test]
    fn endpoints_feeds_and_admin_areas_are_not_pages() {
        for p in [
            "/wp-json/wp/v2/posts",
            "/xmlrpc.php",
            "/feed/",
            "/blog/feed",
            "/api/v1/items",
            "/admin/",
            "/wp-admin/edit.php",
            "/wp-admin/admin-ajax.php",
            "/ajax/cart",
            "/socket.io/",
            "/sitemap.xml",
            "/sitemap_index",
            "/post-sitemap",
            "/login",
            "/user/login",
            "/swagger/api",
            "/.well-known/security",
            "/graphql",
        ] {
            assert_ne!(path_class(p), PathClass::Page, "{p}");
        }
        assert_eq!(path_class("/blog/feedback-wanted"), PathClass::Page);
        assert_eq!(path_class("/apis-explained"), PathClass::Page);
        assert_eq!(path_class("/statusbar-tips"), PathClass::Page);
        // An API's documentation is a page people read, its endpoints are not.
        assert_eq!(path_class("/swagger/"), PathClass::Page);
        assert_eq!(path_class("/redoc/"), PathClass::Page);
    }

    #[test]
    fn subresources_are_what_a_page_loads_by_itself() {
        for p in [
            "/site.css",
            "/app.js",
            "/img/a.webp",
            "/f.woff2",
            "/images/12",
            "/v/seg.ts",
        ] {
            assert!(is_subresource(p.as_bytes()), "{p}");
        }
        for p in [
            "/ads.txt",
            "/robots.txt",
            "/sitemap.xml",
            "/paper.pdf",
            "/app.zip",
            "/feed.rss",
        ] {
            assert!(!is_subresource(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn configured_patterns_win() {
        let rules = PageRules::new(&["/app/api/*".into()], &["/preview/*".into()]).unwrap();
        assert_eq!(rules.class("/app/api/dashboard"), PathClass::Page);
        assert_eq!(rules.class("/preview/post-1"), PathClass::NotPage);
        assert_eq!(rules.class("/blog/post"), PathClass::Page);
        assert!(PageRules::new(&["/[".into()], &[]).is_err());
    }

    #[test]
    fn method_codes() {
        assert_eq!(Method::from_bytes(Some(b"GET")), Method::Get);
        assert_eq!(Method::from_bytes(Some(b"PROPFIND")), Method::Other);
        assert_eq!(Method::from_bytes(None), Method::None);
    }
}
