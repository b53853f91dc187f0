//! Terminal facts checked once (is stderr a TTY, is `NO_COLOR` set) and number formatting for reports.

use std::io::IsTerminal;

/// What the terminal allows.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    /// Progress bars go to stderr only when it is a terminal (never under cron or a pipe).
    pub progress: bool,
    /// Colour only on a terminal and never with `NO_COLOR`.
    pub color: bool,
}

impl Output {
    /// Looks at the real stdout/stderr and environment.
    pub fn detect() -> Output {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Output {
            progress: std::io::stderr().is_terminal(),
            color: std::io::stdout().is_terminal() && !no_color,
        }
    }
}

/// A bar counting `unit` (days, files...) on stderr, or nothing when stderr is not a terminal.
pub fn step_bar(output: Output, unit: &'static str) -> Option<indicatif::ProgressBar> {
    output.progress.then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(&format!(
                "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {unit} ETA {{eta}}"
            ))
            .expect("valid template"),
        );
        bar
    })
}

/// A progress callback feeding `bar` (a no-op without one).
pub fn step_callback(bar: &Option<indicatif::ProgressBar>) -> impl FnMut(usize, usize) + '_ {
    move |done, total| {
        if let Some(b) = bar {
            b.set_length(total as u64);
            b.set_position(done as u64);
        }
    }
}

/// The first and last of `days` for a summary line: ` (A .. B)`, ` (A)`, or nothing.
pub fn days_span(days: &[String]) -> String {
    match (days.first(), days.last()) {
        (Some(a), Some(b)) if a != b => format!(" ({a} .. {b})"),
        (Some(a), _) => format!(" ({a})"),
        _ => String::new(),
    }
}

/// `1234567` -> `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Unix milliseconds as `2022-09-01 22:12:45 UTC`.
pub fn utc_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || format!("{ms} ms"),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn times() {
        assert_eq!(utc_time(1_662_070_365_000), "2022-09-01 22:12:45 UTC");
    }
}
