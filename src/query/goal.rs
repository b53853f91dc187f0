//! Goals: requests that mean a visit achieved something (`/signup/thanks` viewed, or
//! `POST /signup` answered 2xx, which no JavaScript tracker can see). They are matched against
//! the permanent record when a report is asked for, so a goal defined today applies to all
//! history.

use super::filter::Pattern;
use crate::classify::Method;

/// Which statuses a goal accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// One status (`201`).
    Exact(u16),
    /// A class (`2xx`: 200-299).
    Class(u16),
}

impl Status {
    fn parse(text: &str) -> Option<Status> {
        let t = text.trim();
        if t.len() == 3 && t.ends_with("xx") {
            let c = t[..1].parse::<u16>().ok().filter(|c| (1..=5).contains(c))?;
            return Some(Status::Class(c));
        }
        t.parse::<u16>()
            .ok()
            .filter(|s| (100..=599).contains(s))
            .map(Status::Exact)
    }

    fn admits(self, status: u16) -> bool {
        match self {
            Status::Exact(s) => status == s,
            Status::Class(c) => status / 100 == c,
        }
    }
}

/// A goal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Goal {
    /// Its name, as reports and `--filter goal=NAME` use it.
    pub name: String,
    /// The path pattern (`*` for any run of characters).
    pub path: Pattern,
    /// The method, if it matters (`POST`).
    pub method: Option<Method>,
    /// The statuses, if they matter.
    pub status: Option<Status>,
}

/// The method code of a method name.
fn method(name: &str) -> Option<Method> {
    let upper = name.trim().to_ascii_uppercase();
    match Method::from_bytes(Some(upper.as_bytes())) {
        Method::Other | Method::None => None,
        m => Some(m),
    }
}

impl Goal {
    /// A goal from its parts (the `[[goal]]` table's `name`, `path`, `method`, `status`).
    pub fn new(
        name: &str,
        path: &str,
        method_name: Option<&str>,
        status: Option<&str>,
    ) -> Result<Goal, String> {
        if name.trim().is_empty() {
            return Err("a goal needs a name".into());
        }
        if !path.starts_with('/') && !path.starts_with('*') {
            return Err(format!(
                "goal {name:?}: path {path:?} must start with / (or *)"
            ));
        }
        let method = match method_name {
            None => None,
            Some(m) => Some(method(m).ok_or_else(|| {
                format!("goal {name:?}: unknown method {m:?}; use GET, POST, PUT, DELETE, PATCH...")
            })?),
        };
        let status = match status {
            None => None,
            Some(s) => Some(Status::parse(s).ok_or_else(|| {
                format!("goal {name:?}: status {s:?} is not a status (201) or a class (2xx)")
            })?),
        };
        Ok(Goal {
            name: name.trim().to_string(),
            path: Pattern::new(path),
            method,
            status,
        })
    }

    /// Reads `NAME=PATH`, `NAME=METHOD PATH` or `NAME=METHOD PATH STATUS` (`--goal`), e.g.
    /// `Signup=POST /signup 2xx`.
    pub fn parse_flag(text: &str) -> Result<Goal, String> {
        let (name, spec) = text
            .split_once('=')
            .ok_or_else(|| format!("goal {text:?} is not NAME=PATH or NAME=METHOD PATH STATUS"))?;
        let words: Vec<&str> = spec.split_whitespace().collect();
        match words.as_slice() {
            [path] => Goal::new(name, path, None, None),
            [m, path] if !m.starts_with('/') => Goal::new(name, path, Some(m), None),
            [path, s] => Goal::new(name, path, None, Some(s)),
            [m, path, s] => Goal::new(name, path, Some(m), Some(s)),
            _ => Err(format!(
                "goal {text:?} is not NAME=PATH or NAME=METHOD PATH STATUS"
            )),
        }
    }

    /// Whether a request's method and status fit the goal (its path aside).
    pub fn reached_by_request(&self, method_code: u8, status: u16) -> bool {
        let method_ok = match self.method {
            Some(m) => m as u8 == method_code,
            None => method_code == Method::Get as u8,
        };
        let status_ok = match self.status {
            Some(s) => s.admits(status),
            None => (200..400).contains(&status),
        };
        method_ok && status_ok
    }

    /// Whether a request reaches the goal. Without a method, only page views and GETs count
    /// (a goal named by its page); without a status, any success or redirect (2xx, 3xx).
    pub fn reached_by(&self, path: &str, method_code: u8, status: u16) -> bool {
        self.reached_by_request(method_code, status) && self.path.matches(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_name_a_path_a_method_and_a_status() {
        let g = Goal::parse_flag("Signup=POST /signup 2xx").unwrap();
        assert_eq!(g.name, "Signup");
        assert!(g.reached_by("/signup", Method::Post as u8, 201));
        assert!(!g.reached_by("/signup", Method::Post as u8, 422));
        assert!(!g.reached_by("/signup", Method::Get as u8, 200));
        let g = Goal::parse_flag("Thanks=/signup/thanks*").unwrap();
        assert!(g.reached_by("/signup/thanks?x", Method::Get as u8, 200));
        assert!(!g.reached_by("/signup/thanks", Method::Get as u8, 404));
        assert!(!g.reached_by("/signup/thanks", Method::Post as u8, 200));
    }

    #[test]
    fn bad_goals_say_why() {
        for bad in [
            "NoPath",
            "X=signup",
            "X=FETCH /a",
            "X=POST /a 7xx",
            "=/a",
            "X=POST /a 2xx extra",
        ] {
            assert!(Goal::parse_flag(bad).is_err(), "{bad}");
        }
    }
}
