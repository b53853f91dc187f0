//! How old a browser's version was on the day of a hit: "old browser" and "a version from the
//! future" are judged against the hit's own date, not against today, so a 2015 log's Chrome 44 is a
//! person's current browser while the same agent in a 2025 log is a script.
//!
//! Release dates are anchor points (major version, year, month) taken from the vendors' release
//! notes; between anchors versions are spread evenly, after the last one Chrome and Firefox gain a
//! major version every four weeks and Safari one a year.

/// Months since year 0 (`year * 12 + month - 1`).
pub type Month = i64;

const fn m(year: i64, month: i64) -> Month {
    year * 12 + month - 1
}

/// Chrome (and Chromium-based browsers that carry a `Chrome/` token: Edge, Opera, Samsung).
const CHROME: &[(u32, Month)] = &[
    (1, m(2008, 12)),
    (5, m(2010, 5)),
    (10, m(2011, 3)),
    (20, m(2012, 6)),
    (30, m(2013, 10)),
    (40, m(2015, 1)),
    (50, m(2016, 4)),
    (60, m(2017, 7)),
    (70, m(2018, 10)),
    (80, m(2020, 2)),
    (90, m(2021, 4)),
    (100, m(2022, 3)),
    (110, m(2023, 2)),
    (120, m(2023, 12)),
    (130, m(2024, 10)),
    (140, m(2025, 9)),
];

const FIREFOX: &[(u32, Month)] = &[
    (1, m(2004, 11)),
    (2, m(2006, 10)),
    (3, m(2008, 6)),
    (4, m(2011, 3)),
    (10, m(2012, 1)),
    (20, m(2013, 4)),
    (30, m(2014, 6)),
    (40, m(2015, 8)),
    (50, m(2016, 11)),
    (60, m(2018, 5)),
    (70, m(2019, 10)),
    (80, m(2020, 8)),
    (90, m(2021, 4)),
    (100, m(2022, 5)),
    (110, m(2023, 2)),
    (120, m(2023, 11)),
    (130, m(2024, 9)),
    (140, m(2025, 6)),
];

/// Safari's `Version/N` and iOS's major version (the same numbers since iOS 7): one a year, each
/// September; after 18 both jumped to 26 (2025).
const SAFARI: &[(u32, Month)] = &[
    (3, m(2007, 6)),
    (4, m(2009, 6)),
    (5, m(2010, 6)),
    (6, m(2012, 7)),
    (7, m(2013, 9)),
    (8, m(2014, 9)),
    (9, m(2015, 9)),
    (10, m(2016, 9)),
    (11, m(2017, 9)),
    (12, m(2018, 9)),
    (13, m(2019, 9)),
    (14, m(2020, 9)),
    (15, m(2021, 9)),
    (16, m(2022, 9)),
    (17, m(2023, 9)),
    (18, m(2024, 9)),
    (26, m(2025, 9)),
];

const MSIE: &[(u32, Month)] = &[
    (5, m(1999, 3)),
    (6, m(2001, 8)),
    (7, m(2006, 10)),
    (8, m(2009, 3)),
    (9, m(2011, 3)),
    (10, m(2012, 10)),
    (11, m(2013, 10)),
];

/// Opera before it became Chromium (Presto, `Opera/9.80 ... Version/12.16`).
const PRESTO: &[(u32, Month)] = &[
    (9, m(2006, 6)),
    (10, m(2009, 9)),
    (11, m(2010, 12)),
    (12, m(2012, 6)),
];

/// Android's own browser (WebKit, `Version/4.0` whatever its age, no `Chrome/` token), dated by
/// the Android release it came with: the version is `major * 10 + minor` (4.4 is 44).
const ANDROID_STOCK: &[(u32, Month)] = &[
    (10, m(2008, 9)),
    (15, m(2009, 4)),
    (16, m(2009, 9)),
    (20, m(2009, 10)),
    (22, m(2010, 5)),
    (23, m(2010, 12)),
    (30, m(2011, 2)),
    (40, m(2011, 10)),
    (41, m(2012, 7)),
    (42, m(2012, 11)),
    (43, m(2013, 7)),
    (44, m(2013, 10)),
];

/// Internet Explorer's end of support: any IE after this is a script.
const MSIE_RETIRED: Month = m(2022, 6);

/// A browser family whose versions are dated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Chrome,
    Firefox,
    Safari,
    Msie,
    Presto,
    /// A Gecko browser dated only by its build (`Gecko/20010801`, Mozilla and Netscape of old):
    /// the version is the build's month (months since year 0).
    GeckoBuild,
    /// Android's stock browser, by its Android version ([`ANDROID_STOCK`]).
    AndroidStock,
}

impl Family {
    fn table(self) -> &'static [(u32, Month)] {
        match self {
            Family::Chrome => CHROME,
            Family::Firefox => FIREFOX,
            Family::Safari => SAFARI,
            Family::Msie => MSIE,
            Family::Presto => PRESTO,
            Family::GeckoBuild => &[],
            Family::AndroidStock => ANDROID_STOCK,
        }
    }

    /// Years after its release that a version of this family is no person's browser any more:
    /// Chrome and Firefox update themselves; Safari and iOS stay on old devices longer.
    fn lifetime_months(self) -> Month {
        match self {
            Family::Chrome | Family::Firefox => 4 * 12,
            Family::Safari
            | Family::Msie
            | Family::Presto
            | Family::GeckoBuild
            | Family::AndroidStock => 5 * 12,
        }
    }

    /// Months after its release that a version of this family is stale: a dozen versions behind
    /// for the browsers that update themselves, which alone is no proof of a script but with no
    /// subresources loaded is one.
    fn stale_months(self) -> Month {
        match self {
            Family::Chrome | Family::Firefox => 12,
            // Android's own browser stays on the phone it came with: years behind is the normal
            // state of a person's old phone, only past its lifetime a sign.
            Family::AndroidStock => Family::AndroidStock.lifetime_months(),
            Family::Safari | Family::Msie | Family::Presto | Family::GeckoBuild => 36,
        }
    }

    /// Major versions ahead of the current release that a person may run (beta, dev, nightly).
    fn lead(self) -> u32 {
        match self {
            Family::Chrome | Family::Firefox => 2,
            Family::Safari
            | Family::Msie
            | Family::Presto
            | Family::GeckoBuild
            | Family::AndroidStock => 1,
        }
    }

    /// Months per major version after the last anchor.
    fn cadence(self) -> Option<Month> {
        match self {
            Family::Chrome | Family::Firefox => Some(1),
            Family::Safari => Some(12),
            Family::Msie | Family::Presto | Family::GeckoBuild | Family::AndroidStock => None,
        }
    }
}

/// Release month of a major version (`None`: a version that never existed, such as Safari 20).
fn released(family: Family, version: u32) -> Option<Month> {
    if family == Family::GeckoBuild {
        return Some(Month::from(version));
    }
    let table = family.table();
    let (first, first_month) = table[0];
    if version < first {
        return Some(first_month - 12 * i64::from(first - version));
    }
    for pair in table.windows(2) {
        let ((v0, m0), (v1, m1)) = (pair[0], pair[1]);
        if version == v0 {
            return Some(m0);
        }
        if version > v0 && version < v1 {
            if family == Family::Safari && v1 - v0 > 1 {
                return None; // 19..25 were skipped
            }
            return Some(m0 + (m1 - m0) * i64::from(version - v0) / i64::from(v1 - v0));
        }
    }
    let (last, last_month) = table[table.len() - 1];
    if version == last {
        return Some(last_month);
    }
    // Four weeks a version is 13 a year; a month each keeps the arithmetic whole and errs late.
    let per = family.cadence()?;
    Some(last_month + per * i64::from(version - last) * 12 / 13)
}

/// The newest major version of a family released by `month` (a binary search: release months
/// grow with the version; a skipped Safari number sorts with the next real one).
fn current(family: Family, month: Month) -> u32 {
    let table = family.table();
    let key = |v: u32| {
        released(family, v).unwrap_or_else(|| {
            table
                .iter()
                .find(|(tv, _)| *tv > v)
                .map_or(Month::MAX, |(_, tm)| *tm)
        })
    };
    let (mut lo, mut hi) = (table[0].0, table[table.len() - 1].0 + 400);
    if key(lo) > month {
        return lo;
    }
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if key(mid) <= month {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    while lo > table[0].0 && released(family, lo).is_none() {
        lo -= 1;
    }
    lo
}

/// The newest major version of `chrome`, `firefox` or `safari` on the day of `ts_ms` (for the
/// traffic model, which dresses its browsers for the day it writes).
pub fn current_version(browser: &str, ts_ms: i64) -> u32 {
    let family = match browser {
        "firefox" => Family::Firefox,
        "safari" => Family::Safari,
        _ => Family::Chrome,
    };
    current(family, month_of(ts_ms))
}

/// The major version after `token` (`chrome/` in `chrome/64.0.1`), in a lowercase agent.
fn major_after(ua: &str, token: &str) -> Option<u32> {
    let start = ua.find(token)? + token.len();
    let digits = &ua[start..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// The browser family and major version an agent (lowercase) claims.
fn claimed(ua: &str) -> Option<(Family, u32)> {
    if ua.starts_with("opera/") {
        // Opera Mini renders on Opera's servers and keeps the old agent on phones to this day.
        if ua.contains("opera mini") {
            return None;
        }
        let v = major_after(ua, "version/").unwrap_or(9);
        return Some((Family::Presto, v));
    }
    if let Some(v) = major_after(ua, "msie ") {
        return Some((Family::Msie, v));
    }
    if ua.contains("trident/7.") {
        return Some((Family::Msie, 11));
    }
    if let Some(v) = major_after(ua, "chrome/").or_else(|| major_after(ua, "crios/")) {
        return Some((Family::Chrome, v));
    }
    if let Some(v) = major_after(ua, "firefox/").or_else(|| major_after(ua, "fxios/")) {
        return Some((Family::Firefox, v));
    }
    // Gecko froze its build date at 20100101 with Firefox 4; an older date is the build's.
    if let Some(build) = major_after(ua, "gecko/").filter(|d| *d != 20100101) {
        let (year, month) = (build / 10_000, build / 100 % 100);
        if (1998..2011).contains(&year) && (1..=12).contains(&month) {
            return Some((Family::GeckoBuild, year * 12 + month - 1));
        }
    }
    // Version/N is Safari's only on Apple systems: Android's stock browser says Version/4.0
    // whatever its age, and is dated by its Android release instead.
    if ua.contains("android") && ua.contains("version/4.0") && ua.contains("safari/") {
        let start = ua.find("android ")? + "android ".len();
        let mut parts = ua[start..].split(|c: char| !c.is_ascii_digit());
        let major: u32 = parts.next()?.parse().ok()?;
        let minor: u32 = parts
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0)
            .min(9);
        // From 4.4 on the stock browser is Chromium's WebView and names its Chrome version.
        return (major < 5).then_some((Family::AndroidStock, major * 10 + minor));
    }
    let apple = ["macintosh", "iphone", "ipad", "ipod"]
        .iter()
        .any(|d| ua.contains(d));
    if apple && ua.contains("safari/") {
        if let Some(v) = major_after(ua, "version/") {
            return Some((Family::Safari, v));
        }
    }
    // iOS in-app browsers carry no Version/ token but their OS version dates them the same way.
    major_after(ua, "iphone os ")
        .or_else(|| major_after(ua, "cpu os "))
        .map(|v| (Family::Safari, v))
}

/// How a claimed browser compares with the hit's date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Age {
    /// Plausible for a person on that day.
    Plausible,
    /// A browser that updates itself (Chrome, Firefox 4 and later) long out of date on that day:
    /// no person runs it.
    Old,
    /// A browser that does not update itself (Internet Explorer, Safari, old Opera and Firefox)
    /// long out of date on that day: what forgotten machines run, and what scripts claim.
    Obsolete,
    /// Released after that day, or a version or OS that never existed.
    Future,
}

/// Unix milliseconds to months since year 0.
pub fn month_of(ts_ms: i64) -> Month {
    month_of_day(ts_ms.div_euclid(86_400_000))
}

/// The month of a day number (days since 1970-01-01, as `classify::DayClock` numbers local
/// days): browsers are judged by the month of the hit's local day, at ingest and in rollup alike.
pub fn month_of_day(day: i64) -> Month {
    let date = chrono::DateTime::from_timestamp(day * 86_400, 0)
        .map(|d| d.date_naive())
        .unwrap_or_default();
    use chrono::Datelike;
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

/// The month (since year 0, as [`month_of`]) from which a lowercase agent's browser is stale:
/// a year after its last update for Chrome and Firefox, three for Safari, iOS and IE; `None` for an
/// agent without a dated browser.
pub fn stale_from(ua: &str) -> Option<i64> {
    let (family, version) = claimed(ua)?;
    last_update(ua, family, version).map(|r| r + family.stale_months())
}

/// The last version a system gets keeps being updated after its release: Chrome 109 is the last
/// for Windows 7 and 8 (security fixes until October 2023), Firefox 115 ESR the last for them
/// (until March 2026). People on those systems run them long after: their age counts from then.
fn last_update(ua: &str, family: Family, version: u32) -> Option<Month> {
    let old_windows = ["windows nt 6.1", "windows nt 6.2", "windows nt 6.3"]
        .iter()
        .any(|w| ua.contains(w));
    match (family, version, old_windows) {
        (Family::Chrome, 109, true) => Some(m(2023, 10)),
        (Family::Firefox, 115, true) => Some(m(2026, 3)),
        _ => released(family, version),
    }
}

/// Whether a lowercase agent claims a browser that came out before HTTP/2 and cannot speak it:
/// Presto Opera, Internet Explorer 10 and older, Chrome before 41, Firefox before 36, Safari
/// before 9, Android's stock browser, and Gecko builds of that age. Such an agent on a request
/// made over HTTP/2 or HTTP/3 is lying about itself (issue #24, class 4).
pub fn predates_http2(ua: &str) -> bool {
    match claimed(ua) {
        Some((Family::Presto | Family::GeckoBuild | Family::AndroidStock, _)) => true,
        Some((Family::Msie, v)) => v <= 10,
        Some((Family::Chrome, v)) => v < 41,
        Some((Family::Firefox, v)) => v < 36,
        Some((Family::Safari, v)) => v < 9,
        None => false,
    }
}

/// Judges a lowercase user agent against the month of the hit.
pub fn judge(ua: &str, month: Month) -> Age {
    if ua.contains("windows nt 11") || ua.contains("windows nt 12") {
        return Age::Future; // Windows 11 still says NT 10.0
    }
    let Some((family, version)) = claimed(ua) else {
        return Age::Plausible;
    };
    let Some(release) = last_update(ua, family, version) else {
        return Age::Future;
    };
    if family == Family::GeckoBuild {
        if release > month + 1 {
            return Age::Future;
        }
    } else if version > current(family, month) + family.lead() {
        return Age::Future;
    }
    // Chrome updates itself, but not on a phone whose system it no longer supports: an old
    // Android keeps its last Chrome, and rollup judges it by what it does (issue #24, class 3).
    let updates_itself = (family == Family::Chrome && !ua.contains("android"))
        || (family == Family::Firefox && version >= 4);
    let out_of_date = (family == Family::Msie && month > MSIE_RETIRED)
        || month - release > family.lifetime_months();
    match (out_of_date, updates_itself) {
        (false, _) => Age::Plausible,
        (true, true) => Age::Old,
        (true, false) => Age::Obsolete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix ms of the first of a month.
    fn at(year: i64, month: i64) -> Month {
        m(year, month)
    }

    const CHROME_44: &str = "mozilla/5.0 (x11; linux x86_64) applewebkit/537.36 (khtml, like gecko) chrome/44.0.2403.157 safari/537.36";
    const IOS_13: &str = "mozilla/5.0 (iphone; cpu iphone os 13_2_3 like mac os x) applewebkit/605.1.15 (khtml, like gecko) version/13.0.3 mobile/15e148 safari/604.1";

    #[test]
    fn the_same_agent_is_current_in_its_year_and_old_years_later() {
        assert_eq!(judge(CHROME_44, at(2015, 9)), Age::Plausible);
        assert_eq!(judge(CHROME_44, at(2025, 4)), Age::Old);
        assert_eq!(judge(IOS_13, at(2020, 1)), Age::Plausible);
        assert_eq!(
            judge(IOS_13, at(2025, 4)),
            Age::Obsolete,
            "Safari does not update itself"
        );
    }

    #[test]
    fn versions_released_after_the_hit_are_from_the_future() {
        let chrome_142 = "mozilla/5.0 (windows nt 10.0; win64; x64) applewebkit/537.36 (khtml, like gecko) chrome/142.0.0.0 safari/537.36";
        assert_eq!(judge(chrome_142, at(2025, 11)), Age::Plausible);
        assert_eq!(judge(chrome_142, at(2024, 10)), Age::Future);
        assert_eq!(
            judge("mozilla/5.0 (windows nt 11.0; win64; x64) applewebkit/537.36 (khtml, like gecko) chrome/120.0.0.0 safari/537.36", at(2024, 1)),
            Age::Future
        );
        let safari_20 = "mozilla/5.0 (macintosh; intel mac os x 10_15_7) applewebkit/605.1.15 (khtml, like gecko) version/20.1 safari/605.1.15";
        assert_eq!(judge(safari_20, at(2026, 6)), Age::Future, "no Safari 20");
    }

    #[test]
    fn internet_explorer_is_judged_by_its_own_dates() {
        let ie11 = "mozilla/5.0 (windows nt 6.1; trident/7.0; rv:11.0) like gecko";
        assert_eq!(judge(ie11, at(2015, 5)), Age::Plausible);
        assert_eq!(judge(ie11, at(2023, 1)), Age::Obsolete);
        let ie6 = "mozilla/4.0 (compatible; msie 6.0; windows nt 5.1)";
        assert_eq!(judge(ie6, at(2015, 5)), Age::Obsolete);
        assert_eq!(judge(ie6, at(2003, 5)), Age::Plausible);
    }

    #[test]
    fn old_gecko_browsers_are_dated_by_their_build() {
        let mozilla = "mozilla/5.0 (x11; u; linux i686; en-us; rv:0.9.3) gecko/20010801";
        assert_eq!(judge(mozilla, at(2002, 1)), Age::Plausible);
        assert_eq!(judge(mozilla, at(2023, 11)), Age::Obsolete);
        assert_eq!(judge(mozilla, at(2000, 1)), Age::Future);
        assert!(stale_from(mozilla).is_some());
    }

    #[test]
    fn presto_opera_is_dated_and_opera_mini_is_not() {
        let presto = "opera/9.80 (x11; linux x86_64) presto/2.12.388 version/12.16";
        assert_eq!(judge(presto, at(2015, 5)), Age::Plausible);
        assert_eq!(judge(presto, at(2019, 5)), Age::Obsolete);
        let mini = "opera/9.80 (j2me/midp; opera mini/7.1.32052/191.257; u; en) presto/2.12.423 version/12.16";
        assert_eq!(judge(mini, at(2024, 5)), Age::Plausible);
    }

    #[test]
    fn months_of_days_and_times_agree() {
        assert_eq!(month_of_day(0), at(1970, 1));
        assert_eq!(month_of(1_790_812_800_000), at(2026, 10));
        assert_eq!(month_of(1_790_812_800_000 - 1), at(2026, 9));
    }

    #[test]
    fn the_release_table_extrapolates_at_the_vendors_pace() {
        assert_eq!(current(Family::Chrome, m(2024, 10)), 130);
        assert!((155..=158).contains(&current(Family::Chrome, m(2026, 12))));
        assert_eq!(current(Family::Safari, m(2025, 10)), 26);
        assert_eq!(current(Family::Safari, m(2025, 8)), 18);
        assert_eq!(released(Family::Safari, 22), None);
        assert_eq!(current(Family::Firefox, m(2015, 8)), 40);
    }

    #[test]
    fn the_last_version_of_an_old_system_ages_from_its_last_update() {
        let win7 = "mozilla/5.0 (windows nt 6.1; win64; x64) applewebkit/537.36 (khtml, like gecko) chrome/109.0.0.0 safari/537.36";
        let win10 = win7.replace("windows nt 6.1", "windows nt 10.0");
        assert_eq!(judge(win7, at(2026, 12)), Age::Plausible);
        assert_eq!(judge(&win10, at(2027, 6)), Age::Old);
        assert!(stale_from(win7).unwrap() > stale_from(&win10).unwrap() + 6);
    }

    #[test]
    fn browsers_go_stale_before_they_are_old() {
        let stale = stale_from(CHROME_44).unwrap();
        assert!(stale > at(2015, 9) && stale < at(2017, 6));
        let ios = stale_from(IOS_13).unwrap();
        assert!(ios > at(2022, 6) && ios < at(2023, 1));
        assert_eq!(stale_from("curl/8.0"), None);
    }

    #[test]
    fn chrome_on_an_old_phone_is_obsolete_not_old() {
        let phone = "mozilla/5.0 (linux; android 5.1.1; sm-j200f) applewebkit/537.36 (khtml, like gecko) chrome/78.0.3904.108 mobile safari/537.36";
        assert_eq!(
            judge(phone, at(2024, 1)),
            Age::Obsolete,
            "decided again by what it does"
        );
        let desktop = phone.replace(
            "linux; android 5.1.1; sm-j200f",
            "windows nt 10.0; win64; x64",
        );
        assert_eq!(judge(&desktop, at(2024, 1)), Age::Old);
    }

    #[test]
    fn browsers_older_than_http2_are_named() {
        for ua in [
            "opera/9.80 (windows nt 6.1; wow64) presto/2.12.388 version/12.18",
            "mozilla/5.0 (compatible; msie 10.0; windows nt 6.2; trident/6.0)",
            "mozilla/5.0 (windows nt 6.1) applewebkit/537.36 (khtml, like gecko) chrome/40.0.2214.115 safari/537.36",
            "mozilla/5.0 (windows nt 6.1; rv:35.0) gecko/20100101 firefox/35.0",
            "mozilla/5.0 (linux; u; android 4.1.2; en-us; gt-i9100 build/jzo54k) applewebkit/534.30 (khtml, like gecko) version/4.0 mobile safari/534.30",
        ] {
            assert!(predates_http2(ua), "{ua}");
        }
        for ua in [
            "mozilla/5.0 (windows nt 10.0; win64; x64) applewebkit/537.36 (khtml, like gecko) chrome/41.0.2272.89 safari/537.36",
            "mozilla/5.0 (windows nt 10.0; win64; x64; rv:36.0) gecko/20100101 firefox/36.0",
            "mozilla/5.0 (windows nt 10.0; trident/7.0; rv:11.0) like gecko",
            IOS_13,
            "opera/9.80 (j2me/midp; opera mini/7.1.32052/191.257; u; en) presto/2.12.423 version/12.16",
            "curl/8.0",
        ] {
            assert!(!predates_http2(ua), "{ua}");
        }
    }

    #[test]
    fn androids_stock_browser_is_dated_by_its_android() {
        let ics = "mozilla/5.0 (linux; u; android 4.0.4; en-us; gt-p5110 build/imm76d) applewebkit/534.30 (khtml, like gecko) version/4.0 safari/534.30";
        assert_eq!(judge(ics, at(2012, 6)), Age::Plausible);
        assert_eq!(
            judge(ics, at(2024, 6)),
            Age::Obsolete,
            "a forgotten tablet, or a script"
        );
        let webview = "mozilla/5.0 (linux; android 5.1; xt1021 build/lpcs23.13-34.8-3; wv) applewebkit/537.36 (khtml, like gecko) version/4.0 chrome/95.0.4638.74 mobile safari/537.36";
        assert_eq!(
            judge(webview, at(2022, 1)),
            Age::Plausible,
            "WebView names its Chrome"
        );
    }

    #[test]
    fn agents_without_a_dated_browser_are_plausible() {
        assert_eq!(
            judge("mozilla/5.0 (x11; linux) something", at(2024, 1)),
            Age::Plausible
        );
    }
}
