//! The dashboard's own answers: `/` (the page) and `/report.json` (the same view as
//! `stats --format json`), each computed once per view and change of the data.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::answers::{Answer, Failure};
use super::params::View;
use super::{authorised, App};
use crate::query::rollups;
use crate::report::{catalogue, html, Report};
use crate::store::reader::{ReadError, Reader};
use crate::store::Store;

/// The sections of the dashboard, in order.
fn panel_names() -> impl Iterator<Item = &'static str> {
    catalogue::CATALOGUE
        .iter()
        .filter(|d| d.panel)
        .map(|d| d.name)
}

/// How long a page stays good: its now panel is a snapshot of who is on the site.
const PAGE_TTL: Duration = Duration::from_secs(5);
/// How long a report of a period that holds today stays good, whatever the generation says: a
/// backstop, so "today" is read again on a timer of its own.
pub const TODAY_TTL: Duration = Duration::from_secs(60);

/// How long `report` stays good: [`TODAY_TTL`] when its period holds today, else until the data
/// changes.
pub fn ttl_of(app: &App, report: &Report) -> Option<Duration> {
    (report.until >= app.today()).then_some(TODAY_TTL)
}

/// A report and its rows per section.
#[derive(Clone, Debug)]
pub struct Ask {
    /// The view.
    pub view: View,
    /// Sections, in order.
    pub sections: Vec<String>,
    /// Rows per ranked section.
    pub top: usize,
    /// Whether every section is read from the record of visits (also unfiltered: the rollups
    /// keep the top rows of each day only).
    pub from_record: bool,
}

/// Builds the report of `ask` (blocking: runs on a report worker).
pub fn report_of(app: &App, ask: &Ask) -> Result<Report, Failure> {
    let cfg = &app.cfg;
    let sqlite;
    let store = match &cfg.clickhouse {
        Some(ch) => Reader::ClickHouse(ch),
        None => {
            sqlite = Store::open_read_only(&cfg.db)
                .map_err(|e| Failure::busy(format!("cannot read the database: {e}")))?;
            crate::store::zone::check(sqlite.conn(), cfg.tz)
                .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            Reader::Sqlite(sqlite.conn())
        }
    };
    let internal = |e: ReadError| match e {
        ReadError::ClickHouse(e) => Failure::busy(format!("cannot read the store: {e}")),
        e => Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let range = rollups::data_range(store).map_err(internal)?;
    let (from, until) = ask.view.bounds(app.today(), range);
    let (filters, goals) = crate::query::filters_and_goals(&ask.view.filters, &cfg.goals, &[])
        .map_err(|e| Failure::new(StatusCode::BAD_REQUEST, e))?;
    let sections: Vec<String> = ask
        .sections
        .iter()
        .filter(|p| filters.is_empty() || !catalogue::counts_hits(p))
        .cloned()
        .collect();
    let site = ask.view.site.clone().or_else(|| cfg.site.clone());
    if ask.from_record && filters.is_empty() {
        let read = crate::query::report::read(
            store,
            &crate::query::report::Ask {
                site: site.as_deref(),
                from,
                until,
                top: ask.top,
                sections: &sections,
                filters: &[],
                goals: &goals,
            },
            cfg.cache.as_deref(),
        );
        return read.map_err(internal);
    }
    let q = rollups::Query {
        site,
        from,
        until,
        top: ask.top,
        sections,
    };
    crate::query::read(store, &q, &filters, &goals, cfg.cache.as_deref())
        .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")))
}

/// The key of a report: everything it depends on.
fn report_key(gen: i64, today: chrono::NaiveDate, ask: &Ask) -> String {
    format!(
        "{gen}|{today}|{:?}|{:?}|{}|{}",
        ask.view, ask.sections, ask.top, ask.from_record
    )
}

/// The report of `ask`, kept or computed.
pub async fn report(app: &Arc<App>, gen: i64, ask: Ask) -> Result<Arc<Report>, Failure> {
    let key = report_key(gen, app.today(), &ask);
    let this = app.clone();
    app.within(app.reports.get(key, move || async move {
        let worker = this.clone();
        let report = this.compute(move || report_of(&worker, &ask)).await?;
        let ttl = ttl_of(&this, &report);
        Ok((report, ttl))
    }))
    .await
}

/// The dashboard's view of a request, or why it cannot be answered.
fn dashboard_view(app: &App, headers: &HeaderMap, query: Option<&str>) -> Result<View, Failure> {
    if !authorised(&app.cfg, headers) {
        return Err(Failure::unauthorised());
    }
    View::parse(query.unwrap_or("")).map_err(|e| Failure::new(StatusCode::BAD_REQUEST, e))
}

fn panels(app: &App, view: View) -> Ask {
    Ask {
        view,
        sections: panel_names().map(String::from).collect(),
        top: app.cfg.top,
        from_record: false,
    }
}

/// A dashboard answer: the request's view checked, then the answer of `kind` for it, kept or
/// built by `build` (from the app, the data's generation and the view).
async fn answer<F, Fut>(
    app: Arc<App>,
    headers: HeaderMap,
    query: Option<String>,
    kind: &str,
    build: F,
) -> Response
where
    F: FnOnce(Arc<App>, i64, View) -> Fut,
    Fut: std::future::Future<Output = Result<(Answer, Option<Duration>), Failure>> + Send + 'static,
{
    let view = match dashboard_view(&app, &headers, query.as_deref()) {
        Ok(v) => v,
        Err(f) => return f.respond(),
    };
    let gen = match app.generation() {
        Ok(g) => g,
        Err(f) => return f.respond(),
    };
    let key = format!("{kind}|{gen}|{}|{view:?}", app.today());
    let this = app.clone();
    match app
        .within(app.answers.get(key, move || build(this, gen, view)))
        .await
    {
        Ok(a) => a.respond(&headers),
        Err(f) => f.respond(),
    }
}

/// `GET /`: the dashboard page.
pub async fn page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    answer(app, headers, query, "page", |this, gen, view| async move {
        let report = report(&this, gen, panels(&this, view.clone())).await?;
        let now = this.now().await;
        let site = view.site.clone().or_else(|| this.cfg.site.clone());
        let body = this
            .compute(move || {
                let nav = html::Nav {
                    view: view.words(),
                    filters: view.filters.clone(),
                    period: view.period_name(),
                    periods: crate::query::period::PERIODS,
                    now: Some(match &now.0 {
                        Ok(snap) => Ok(super::now::panel(snap, site.as_deref())),
                        Err(e) => Err(e.clone()),
                    }),
                };
                Ok(html::render_page(&report, Some(&nav)).into_bytes())
            })
            .await?;
        Ok((
            Answer::new("text/html; charset=utf-8", "no-cache", body),
            Some(PAGE_TTL),
        ))
    })
    .await
}

/// `GET /report.json`: the view as `stats --format json` gives it.
pub async fn report_json(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    answer(app, headers, query, "json", |this, gen, view| async move {
        let report = report(&this, gen, panels(&this, view)).await?;
        let mut body = Vec::new();
        crate::report::json::write_pretty(&mut body, &crate::report::json::render(&report))
            .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        let ttl = ttl_of(&this, &report);
        Ok((Answer::new("application/json", "no-cache", body), ttl))
    })
    .await
}
