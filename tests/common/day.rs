//! One hand-written day of a small site (2024-10-14, UTC) for the behaviour tests: combined
//! lines, current browsers, and people reading pages with their subresources.

/// A combined line on 2024-10-14 (a Monday), `min` minutes after 10:00 UTC.
pub fn line(min: u32, ip: &str, request: &str, status: u16, referrer: &str, agent: &str) -> String {
    format!(
        "{ip} - - [14/Oct/2024:{:02}:{:02}:{:02} +0000] \"{request}\" {status} 1000 \"{referrer}\" \"{agent}\"\n",
        10 + min / 60,
        min % 60,
        min * 7 % 60
    )
}

/// Browsers current in October 2024.
pub const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36";
pub const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0";
pub const SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";

/// A person at `ip` reading `path` with its stylesheet and image, arriving from `referrer`.
pub fn browse(min: u32, ip: &str, path: &str, referrer: &str, agent: &str) -> String {
    let page = format!("https://example.com{path}");
    [
        line(
            min,
            ip,
            &format!("GET {path} HTTP/2.0"),
            200,
            referrer,
            agent,
        ),
        line(min, ip, "GET /static/site.css HTTP/2.0", 200, &page, agent),
        line(min, ip, "GET /images/hero.webp HTTP/2.0", 200, &page, agent),
    ]
    .concat()
}

/// A small site's day: five people with their subresources, so the site is known to serve them.
pub fn people() -> String {
    (0..5)
        .map(|i| {
            browse(
                i * 3,
                &format!("81.2.69.{}", 10 + i),
                "/",
                "https://www.google.com/",
                if i % 2 == 0 { CHROME } else { SAFARI },
            )
        })
        .collect()
}

/// `stats --format json` of 2024-10-14 with `sections`.
pub fn report(env: &super::Env, sections: &[&str]) -> serde_json::Value {
    super::json(
        env.cmd()
            .args(["stats", "--tz", "UTC", "--no-refresh", "--format", "json"])
            .args(["--since", "2024-10-14", "--until", "2024-10-14", "--db"])
            .arg(env.db())
            .args(sections),
        0,
    )
}
