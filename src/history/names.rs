//! Other services' names for browsers, systems, devices, countries and sources, as logtally's
//! own reports name them (`classify::agent`, `classify::referrer`), so that an imported day and a
//! log day add up under one key.

/// A browser's name as logtally's reports give it (`Microsoft Edge` is `Edge`); a version after
/// the name (`Firefox 121`) is dropped.
pub fn browser(name: &str) -> String {
    let name = without_version(name);
    let known = match name.to_ascii_lowercase().as_str() {
        "" | "(not set)" | "unknown" => "Other",
        "chrome" | "chromium" | "chrome mobile" | "chrome webview" | "crios" | "chrome-ios" => {
            "Chrome"
        }
        "firefox" | "firefox mobile" | "fxios" | "firefox-ios" => "Firefox",
        "safari" | "mobile safari" | "ios" | "ios-webview" | "safari mobile" => "Safari",
        "edge" | "microsoft edge" | "edge-chromium" | "edge-ios" | "edge chromium" => "Edge",
        "opera" | "opera mini" | "opera-mini" | "opera gx" => "Opera",
        "samsung internet" | "samsung" | "samsungbrowser" => "SamsungBrowser",
        "internet explorer" | "ie" => "Internet Explorer",
        "vivaldi" => "Vivaldi",
        "yandex browser" | "yandexbrowser" | "yandex" => "Yandex Browser",
        _ => return name.to_string(),
    };
    known.to_string()
}

/// An operating system's name as logtally's reports give it (`Mac` is `macOS`).
pub fn os(name: &str) -> String {
    let name = without_version(name);
    let lower = name.to_ascii_lowercase();
    let known = match lower.as_str() {
        "" | "(not set)" | "unknown" => "Other",
        "mac" | "mac os" | "macos" | "mac os x" | "os x" => "macOS",
        "gnu/linux" | "linux" | "ubuntu" | "debian" | "fedora" => "Linux",
        "chrome os" | "chromeos" | "chromium os" => "ChromeOS",
        "ios" | "iphone os" | "ipados" => "iOS",
        "android" | "android os" => "Android",
        l if l.starts_with("windows") => "Windows",
        _ => return name.to_string(),
    };
    known.to_string()
}

/// A device class as logtally's reports give it: Desktop, Mobile, Tablet or Other.
pub fn device(name: &str) -> String {
    match name.trim().to_ascii_lowercase().as_str() {
        "desktop" | "laptop" | "computer" | "pc" => "Desktop",
        "mobile" | "phone" | "smartphone" => "Mobile",
        "tablet" => "Tablet",
        _ => "Other",
    }
    .to_string()
}

/// An ISO 3166 country code (`US`, also from a region such as `US-TX`); `None` when unknown.
pub fn country(code: &str) -> Option<String> {
    let code = code.trim();
    let country = code.split('-').next().unwrap_or("");
    (country.len() == 2 && country.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| country.to_ascii_uppercase())
        .filter(|c| c != "XX" && c != "ZZ")
}

/// The source a referrer counts for, as the logs' rollups name it: a URL or host is looked up as
/// a log's referrer is (`google.de` is `Google`); `None` for direct (no referrer, the site itself).
pub fn source_of_referrer(referrer: &str, site: Option<&str>) -> Option<String> {
    let referrer = referrer.trim();
    if referrer.is_empty() || referrer == "-" || referrer.eq_ignore_ascii_case("direct") {
        return None;
    }
    let host = crate::classify::referrer::host(referrer.as_bytes())?;
    let source = crate::classify::referrer::source_of_host(&host, site);
    (source != crate::classify::referrer::INTERNAL).then_some(source)
}

/// `Firefox 121.0` -> `Firefox`; a name made of words only is kept whole (`Samsung Internet`).
fn without_version(name: &str) -> &str {
    let name = name.trim();
    match name.rfind(' ') {
        Some(at) if name[at + 1..].starts_with(|c: char| c.is_ascii_digit()) => {
            without_version(&name[..at])
        }
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_other_services_are_logtallys() {
        assert_eq!(browser("Firefox 121.0"), "Firefox");
        assert_eq!(browser("Microsoft Edge"), "Edge");
        assert_eq!(browser("edge-chromium"), "Edge");
        assert_eq!(browser("Samsung Internet"), "SamsungBrowser");
        assert_eq!(browser("Brave"), "Brave");
        assert_eq!(os("Mac"), "macOS");
        assert_eq!(os("Windows 10"), "Windows");
        assert_eq!(os("Mac OS"), "macOS");
        assert_eq!(os("GNU/Linux"), "Linux");
        assert_eq!(os(""), "Other");
        assert_eq!(device("mobile"), "Mobile");
        assert_eq!(device("laptop"), "Desktop");
        assert_eq!(country("US-TX").as_deref(), Some("US"));
        assert_eq!(country("de").as_deref(), Some("DE"));
        assert_eq!(country(""), None);
        assert_eq!(
            source_of_referrer("https://www.google.com/", None).as_deref(),
            Some("Google")
        );
        assert_eq!(
            source_of_referrer("news.ycombinator.com/item?id=1", None).as_deref(),
            Some("Hacker News")
        );
        assert_eq!(
            source_of_referrer("https://example.com/a", Some("example.com")),
            None
        );
        assert_eq!(source_of_referrer("", None), None);
    }
}
