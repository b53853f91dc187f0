//! The site's own endpoints, read by its visitors' browsers: keyless, read-only, JSON (and one
//! SVG), no cookies; `Access-Control-Allow-Origin` for the origins `--allow-origin` names; open
//! without the password with `--public-api`.
//!
//! - `GET /api/pages.json?period=7d&limit=10[&site=S][&filter=K=V...]`: popular pages.
//! - `GET /api/counter.json?page=/posts/x[&period=all][&site=S]`: one page's visitors and page
//!   views; `/api/counter.svg` the same as a small badge (after GoatCounter's visitor counter).
//! - `GET /api/live.json[?site=S][&page=P][&top=N]`: who is on the site now (and on that page),
//!   from the running `tail`, in the shape of `tail --live-http`'s `/live.json`.
//!
//! Every answer is kept as the dashboard's are: once per view and change of the data.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

use super::answers::{Answer, Failure, Weigh};
use super::params::View;
use super::views::{report, report_of, ttl_of, Ask};
use super::{authorised, App};

/// Most pages `/api/pages.json` lists.
pub const MAX_LIMIT: usize = 100;
/// How long the answers of `/api/*` may be kept by browsers and proxies.
const API_CACHE_CONTROL: &str = "public, max-age=30";
/// How long a live answer stays good.
const LIVE_TTL: Duration = Duration::from_secs(1);

/// Visitors and page views of every page of a period.
#[derive(Debug, Default)]
pub struct PageCounts(pub HashMap<String, (u64, u64)>);

impl Weigh for PageCounts {
    fn weight(&self) -> usize {
        self.0.keys().map(|k| k.len() + 64).sum::<usize>() + 64
    }
}

/// The period, site and parameters of an API request, or the answer refusing it.
fn read_request(
    app: &App,
    headers: &HeaderMap,
    query: Option<&str>,
    extra: &[&str],
) -> Result<(View, BTreeMap<String, String>, i64), Failure> {
    if !app.cfg.public_api && !authorised(&app.cfg, headers) {
        return Err(Failure::unauthorised());
    }
    let (view, extras) = View::parse_with(query.unwrap_or(""), extra)
        .map_err(|e| Failure::new(StatusCode::BAD_REQUEST, e))?;
    let gen = app.generation()?;
    Ok((view, extras, gen))
}

fn bad(msg: impl Into<String>) -> Failure {
    Failure::new(StatusCode::BAD_REQUEST, msg)
}

fn json_answer(value: &serde_json::Value, cache_control: &'static str) -> Result<Answer, Failure> {
    let mut body = Vec::new();
    crate::report::json::write_pretty(&mut body, value)
        .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Answer::new("application/json", cache_control, body))
}

fn respond(answer: Result<Arc<Answer>, Failure>, headers: &HeaderMap) -> Response {
    match answer {
        Ok(a) => a.respond(headers),
        Err(f) => f.respond(),
    }
}

/// `GET /api/pages.json`.
async fn pages(State(app): State<Arc<App>>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let (view, extras, gen) = match read_request(&app, &headers, q.as_deref(), &["limit"]) {
        Ok(r) => r,
        Err(f) => return f.respond(),
    };
    let limit = match extras.get("limit").map(|l| l.parse::<usize>()) {
        None => 10,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => return bad(format!("limit must be a number from 1 to {MAX_LIMIT}")).respond(),
    };
    let key = format!("pages|{gen}|{}|{view:?}|{limit}", app.today());
    let this = app.clone();
    let answer = app
        .within(app.answers.get(key, move || async move {
            let ask = Ask {
                view,
                sections: vec!["pages".into()],
                top: limit,
                from_record: false,
            };
            let report = report(&this, gen, ask).await?;
            let rows: Vec<_> = report
                .sections
                .iter()
                .filter(|s| s.name == "pages")
                .flat_map(|s| &s.rows)
                .map(|r| {
                    json!({
                        "page": r.key,
                        "visitors": r.values.first().copied().unwrap_or(0),
                        "pageviews": r.values.get(1).copied().unwrap_or(0),
                    })
                })
                .collect();
            let v = json!({
                "schema_version": crate::report::json::SCHEMA_VERSION,
                "site": report.site,
                "from": report.from.to_string(),
                "until": report.until.to_string(),
                "pages": rows,
            });
            Ok((json_answer(&v, API_CACHE_CONTROL)?, ttl_of(&this, &report)))
        }))
        .await;
    respond(answer, &headers)
}

/// The page a counter asks about, as the record holds paths: no query, no fragment, `//`
/// collapsed.
fn counted_page(page: &str) -> String {
    let path = page.split('?').next().unwrap_or("");
    crate::classify::path::normalise(path.as_bytes()).into_owned()
}

/// One page's visitors and page views over a period (default: all of it).
async fn counter_of(
    app: &Arc<App>,
    headers: &HeaderMap,
    q: Option<&str>,
) -> Result<(String, u64, u64, Option<String>), Failure> {
    let (mut view, extras, gen) = read_request(app, headers, q, &["page", "label"])?;
    let Some(page) = extras.get("page").map(|p| counted_page(p)) else {
        return Err(bad("page is needed: /api/counter.json?page=/posts/x"));
    };
    if !view.filters.is_empty() {
        return Err(bad("a counter takes no filter: it counts one page"));
    }
    if view.period.is_none() && view.range.is_none() {
        view.period = Some("all".into());
    }
    let key = format!("counts|{gen}|{}|{view:?}", app.today());
    let this = app.clone();
    let counts = app
        .within(app.counts.get(key, move || async move {
            let ask = Ask {
                view,
                sections: vec!["pages".into()],
                top: usize::MAX,
                from_record: true,
            };
            let worker = this.clone();
            let counts = this
                .compute(move || {
                    let report = report_of(&worker, &ask)?;
                    let counts = report
                        .sections
                        .iter()
                        .filter(|s| s.name == "pages")
                        .flat_map(|s| &s.rows)
                        .map(|r| {
                            let n = |i: usize| r.values.get(i).copied().unwrap_or(0);
                            (r.key.clone(), (n(0), n(1)))
                        })
                        .collect();
                    Ok(PageCounts(counts))
                })
                .await?;
            Ok((counts, None))
        }))
        .await?;
    let (visitors, pageviews) = counts.0.get(&page).copied().unwrap_or((0, 0));
    Ok((page, visitors, pageviews, extras.get("label").cloned()))
}

/// `GET /api/counter.json`.
async fn counter_json(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    match counter_of(&app, &headers, q.as_deref()).await {
        Ok((page, visitors, pageviews, _)) => {
            let v = json!({
                "schema_version": crate::report::json::SCHEMA_VERSION,
                "page": page,
                "visitors": visitors,
                "pageviews": pageviews,
            });
            respond(json_answer(&v, API_CACHE_CONTROL).map(Arc::new), &headers)
        }
        Err(f) => f.respond(),
    }
}

/// Escapes text for SVG.
fn xml_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c if c.is_control() => String::new(),
            c => c.to_string(),
        })
        .collect()
}

/// A badge: `label | count`, sized to its text (about 7 px a character at 11 px).
pub fn badge(label: &str, count: u64) -> String {
    let label: String = label.chars().take(40).collect();
    let value = crate::output::thousands(count);
    let lw = 10 + 7 * label.chars().count();
    let vw = 10 + 7 * value.chars().count();
    let (label, value_text) = (xml_escape(&label), xml_escape(&value));
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" aria-label="{label}: {value_text}"><title>{label}: {value_text}</title><rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{vw}" height="20" fill="#2f6fdb"/><g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle"><text x="{lx}" y="14">{label}</text><text x="{vx}" y="14">{value_text}</text></g></svg>"##,
        w = lw + vw,
        lx = lw / 2,
        vx = lw + vw / 2,
    )
}

/// `GET /api/counter.svg`: the page views of a page as a badge (`&label=` names it).
async fn counter_svg(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    match counter_of(&app, &headers, q.as_deref()).await {
        Ok((_, _, pageviews, label)) => {
            let svg = badge(label.as_deref().unwrap_or("views"), pageviews);
            Answer::new("image/svg+xml", API_CACHE_CONTROL, svg.into_bytes()).respond(&headers)
        }
        Err(f) => f.respond(),
    }
}

/// `GET /api/live.json`.
async fn live(State(app): State<Arc<App>>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    if !app.cfg.public_api && !authorised(&app.cfg, &headers) {
        return Failure::unauthorised().respond();
    }
    let (view, extras) = match View::parse_with(q.as_deref().unwrap_or(""), &["page", "top"]) {
        Ok(r) => r,
        Err(e) => return bad(e).respond(),
    };
    if view.period.is_some() || view.range.is_some() || !view.filters.is_empty() {
        return bad("live.json takes site, page and top: it is about now").respond();
    }
    let top = match extras.get("top").map(|t| t.parse::<usize>()) {
        None => crate::live::socket::DEFAULT_TOP,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => return bad("top must be a number from 1 to 1000").respond(),
    };
    let site = view.site.or_else(|| app.cfg.site.clone());
    let page = extras.get("page").map(|p| counted_page(p));
    let key = format!("live|{site:?}|{page:?}|{top}");
    let this = app.clone();
    let answer = app
        .within(app.answers.get(key, move || async move {
            let now = this.now().await;
            match &now.0 {
                Ok(snap) => {
                    let v = super::now::view(snap, site.as_deref(), page.as_deref(), top);
                    Ok((json_answer(&v, "no-cache")?, Some(LIVE_TTL)))
                }
                Err(e) => Err(Failure::busy(e.clone())),
            }
        }))
        .await;
    respond(answer, &headers)
}

/// `Access-Control-Allow-Origin` for the origins allowed, on `/api/*` only; preflights answered.
async fn cors(
    State(app): State<Arc<App>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_string);
    let allowed = origin.as_deref().and_then(|o| {
        if app.cfg.allow_origins.iter().any(|a| a == "*") {
            Some("*".to_string())
        } else {
            app.cfg
                .allow_origins
                .iter()
                .any(|a| a.trim_end_matches('/') == o)
                .then(|| o.to_string())
        }
    });
    let mut res = if req.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(v) = allowed.and_then(|a| HeaderValue::from_str(&a).ok()) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
    }
    res
}

/// The routes under `/api`.
pub fn router(app: Arc<App>) -> Router<Arc<App>> {
    Router::new()
        .route("/pages.json", get(pages))
        .route("/counter.json", get(counter_json))
        .route("/counter.svg", get(counter_svg))
        .route("/live.json", get(live))
        .layer(axum::middleware::from_fn_with_state(app, cors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_counted_as_the_record_holds_them() {
        assert_eq!(counted_page("/posts/x?utm_source=a#top"), "/posts/x");
        assert_eq!(counted_page("//a//b"), "/a/b");
        assert_eq!(counted_page(""), "/");
    }

    #[test]
    fn badges_escape_their_label_and_size_to_it() {
        let svg = badge("<views>", 1234);
        assert!(svg.contains("&lt;views&gt;: 1,234"), "{svg}");
        assert!(!svg.contains("<views>"));
        assert!(badge("a", 1).len() < badge("a much longer label", 1).len());
    }
}
