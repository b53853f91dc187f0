//! Everything a hit is judged by at ingest, in one value shared by the parsing threads and by
//! `check --bots`: bot agent patterns (layer 1), referrer spam, and what counts as a page.

use super::bots::AgentPatterns;
use super::kind::PageRules;
use super::spam::SpamList;

/// The rules of ingest-time classification.
#[derive(Clone, Debug)]
pub struct Rules {
    /// User-agent patterns of bots (built-in, plus `bot_agents`).
    pub agents: AgentPatterns,
    /// Referrer-spam hosts (built-in, plus `referrer_spam`).
    pub spam: SpamList,
    /// What counts as a page (built-in, plus `page_include` / `page_exclude`).
    pub pages: PageRules,
}

impl Rules {
    /// The built-in rules alone.
    pub fn builtin() -> Rules {
        Rules {
            agents: AgentPatterns::builtin().clone(),
            spam: SpamList::builtin().clone(),
            pages: PageRules::default(),
        }
    }
}
