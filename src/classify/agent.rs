//! Browser, OS and device class of a user agent, decided once per distinct agent (stored on
//! `agents`) with woothee, a maintained rule set that needs no data file at run time.

/// What a user agent is, for reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentInfo {
    /// Browser family: Chrome, Firefox, Safari, Edge, ...
    pub browser: String,
    /// Operating system family: Windows, macOS, iOS, Android, Linux, ...
    pub os: String,
    /// Desktop, Mobile, Tablet, Bot, Appliance or Other.
    pub device: String,
}

fn os_family(os: &str) -> &str {
    match os {
        o if o.starts_with("Windows") => "Windows",
        "Mac OSX" | "Mac OS Classic" => "macOS",
        "iPhone" | "iPad" | "iPod" => "iOS",
        "ChromeOS" => "ChromeOS",
        "UNKNOWN" | "" => "Other",
        o => o,
    }
}

/// Classifies one user agent.
pub fn classify(agent: &str) -> AgentInfo {
    let parsed = woothee::parser::Parser::new().parse(agent);
    let Some(r) = parsed else {
        return AgentInfo {
            browser: "Other".into(),
            os: "Other".into(),
            device: "Other".into(),
        };
    };
    let browser = match r.name {
        "UNKNOWN" | "" => "Other",
        "Internet Explorer" if agent.contains("Edge/") => "Edge",
        name => name,
    };
    let tablet = agent.contains("iPad")
        || (agent.contains("Android") && !agent.contains("Mobile"))
        || agent.contains("Tablet");
    let device = match r.category {
        "pc" => "Desktop",
        "smartphone" | "mobilephone" if tablet => "Tablet",
        "smartphone" | "mobilephone" => "Mobile",
        "crawler" => "Bot",
        "appliance" => "Appliance",
        _ => "Other",
    };
    AgentInfo {
        browser: browser.to_string(),
        os: os_family(r.os).to_string(),
        device: device.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genlog::BROWSER_AGENTS;

    #[test]
    fn real_browsers() {
        let c = classify(BROWSER_AGENTS[0]);
        assert_eq!(
            (c.browser.as_str(), c.os.as_str(), c.device.as_str()),
            ("Chrome", "Windows", "Desktop")
        );
        let c = classify(BROWSER_AGENTS[7]); // iPhone Safari
        assert_eq!(
            (c.browser.as_str(), c.os.as_str(), c.device.as_str()),
            ("Safari", "iOS", "Mobile")
        );
        let c = classify(BROWSER_AGENTS[8]); // iPad
        assert_eq!(c.device, "Tablet");
        let c = classify(BROWSER_AGENTS[4]); // Firefox on Windows
        assert_eq!((c.browser.as_str(), c.os.as_str()), ("Firefox", "Windows"));
        let c = classify(BROWSER_AGENTS[9]); // Android phone
        assert_eq!((c.os.as_str(), c.device.as_str()), ("Android", "Mobile"));
    }

    #[test]
    fn crawlers_and_junk() {
        assert_eq!(
            classify("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
                .device,
            "Bot"
        );
        assert_eq!(classify("\u{1}garbage").browser, "Other");
    }
}
