//! What types alone cannot check in the settings, checked in one place: the hook's
//! allow-list, baresip's address, this line's and the internal number, the default
//! country, and the addresses of Pyrus. Loading a file (which refuses only what would make
//! running unsafe, and logs the rest), saving or testing from the window, and the settings
//! view all ask [`Settings::validate`]; each problem names its key.

use std::fmt;

use super::Settings;
use crate::domain::sources::AllowListError;
use crate::domain::{Country, InputError, Mapping, PhoneError, PhoneNumber};

/// One value the settings cannot use, by its key in the file (`hook.allow`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key, as the file spells it.
    pub key: &'static str,
    /// What is wrong with it.
    pub kind: ProblemKind,
}

/// What is wrong with a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// The hook's allow-list.
    AllowList(AllowListError),
    /// Not baresip's control address (the value as written).
    BaresipAddress(String),
    /// Not a phone number.
    Number(PhoneError),
    /// Not a country code.
    Country(PhoneError),
    /// An address Pyrus cannot be reached at safely (why, in words).
    Url(String),
    /// A default mapping or a preset's that no call could carry (too long, a hidden
    /// character, no code); it is left out of every call.
    Mapping(InputError),
}

impl Problem {
    /// True when the app may not run with it: the hook's allow-list decides who may send
    /// events, and a list that cannot be read must never be guessed at.
    pub fn blocks_start(&self) -> bool {
        matches!(self.kind, ProblemKind::AllowList(_))
    }

    /// The error code the window words (see `domain::codes`).
    pub fn code(&self) -> &'static str {
        match self.kind {
            ProblemKind::AllowList(_) => "hook_allow",
            ProblemKind::BaresipAddress(_) => "bad_baresip",
            ProblemKind::Number(_) | ProblemKind::Country(_) => "bad_number",
            ProblemKind::Url(_) => "bad_url",
            ProblemKind::Mapping(_) => "bad_mapping",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.key;
        match &self.kind {
            ProblemKind::AllowList(why) => write!(f, "{key}: {why}"),
            ProblemKind::Url(why) => write!(f, "{key}: {why}"),
            ProblemKind::BaresipAddress(addr) => write!(
                f,
                "{key}: '{addr}' is not baresip's control address: write host:port, e.g. 127.0.0.1:4444"
            ),
            ProblemKind::Number(e) | ProblemKind::Country(e) => write!(f, "{key}: {e}"),
            ProblemKind::Mapping(e) => write!(f, "{key}: {e}; it is left out of every call"),
        }
    }
}

impl Settings {
    /// Every default mapping with its key: the defaults', then each preset's.
    fn default_mappings(&self) -> impl Iterator<Item = (&'static str, &Mapping)> {
        let defaults = self
            .defaults
            .mappings
            .iter()
            .map(|m| ("defaults.mappings", m));
        let presets = self
            .defaults
            .presets
            .iter()
            .flat_map(|p| p.mappings.iter().map(|m| ("defaults.presets", m)));
        defaults.chain(presets)
    }

    /// Leaves out the default mappings no call could carry (each already named by
    /// [`Settings::validate`]), so they never make a call fail at Pyrus.
    pub(super) fn drop_unusable_mappings(&mut self) {
        let usable = |m: &Mapping| Mapping::new(&m.code, &m.value).is_ok();
        self.defaults.mappings.retain(usable);
        for preset in &mut self.defaults.presets {
            preset.mappings.retain(usable);
        }
    }

    /// Every value types alone cannot check, checked; empty when all can be used.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut problem = |key, kind| problems.push(Problem { key, kind });
        if let Err(why) = self.hook.allow_rules() {
            problem("hook.allow", ProblemKind::AllowList(why));
        }
        if let Some(addr) = self.sources.baresip.as_deref()
            && addr
                .trim()
                .rsplit_once(':')
                .is_none_or(|(host, port)| host.is_empty() || port.parse::<u16>().is_err())
        {
            problem(
                "sources.baresip",
                ProblemKind::BaresipAddress(addr.to_owned()),
            );
        }
        for (key, number) in [
            ("defaults.line_number", &self.defaults.line_number),
            ("defaults.internal_number", &self.defaults.internal_number),
        ] {
            if !number.trim().is_empty()
                && let Err(e) = PhoneNumber::parse_extension(number)
            {
                problem(key, ProblemKind::Number(e));
            }
        }
        if let Some(code) = self
            .defaults
            .country
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            && let Err(e) = Country::parse(code)
        {
            problem("defaults.country", ProblemKind::Country(e));
        }
        for (key, mapping) in self.default_mappings() {
            if let Err(e) = Mapping::new(&mapping.code, &mapping.value) {
                problem(key, ProblemKind::Mapping(e));
            }
        }
        let url = |what, url: &str| {
            crate::pyrus::check_named_url(what, url.trim())
                .err()
                .map(|e| ProblemKind::Url(e.to_string()))
        };
        if let Some(kind) = url("the auth URL", &self.pyrus.auth_url) {
            problem("pyrus.auth_url", kind);
        }
        if let Some(web) = self
            .pyrus
            .web_base
            .as_deref()
            .filter(|w| !w.trim().is_empty())
            && let Some(kind) = url("the web address (web_base)", web)
        {
            problem("pyrus.web_base", kind);
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::ProblemKind;
    use crate::settings::Settings;

    #[test]
    fn each_problem_names_its_key_and_a_good_file_has_none() {
        let good = Settings::default();
        assert_eq!(good.validate(), []);
        let mut bad = Settings::default();
        bad.hook.network = true;
        bad.sources.baresip = Some("4444".to_owned());
        bad.defaults.line_number = "call me".to_owned();
        bad.defaults.country = Some("XX".to_owned());
        bad.pyrus.auth_url = "http://pyrus.example/auth".to_owned();
        let problems = bad.validate();
        let keys: Vec<&str> = problems.iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            [
                "hook.allow",
                "sources.baresip",
                "defaults.line_number",
                "defaults.country",
                "pyrus.auth_url"
            ]
        );
        assert!(matches!(problems[2].kind, ProblemKind::Number(_)));
        assert_eq!(problems[1].code(), "bad_baresip");
        assert!(problems[4].to_string().starts_with("pyrus.auth_url: "));
        // Only the allow-list keeps the app from starting.
        let blocking: Vec<&str> = problems
            .iter()
            .filter(|p| p.blocks_start())
            .map(|p| p.key)
            .collect();
        assert_eq!(blocking, ["hook.allow"]);
    }

    #[test]
    fn a_line_number_that_hides_or_floods_is_named_at_load() {
        for line in [
            "+7495\u{202E}3009080".to_owned(),
            "7".repeat(1024 * 1024),
            "+7495\u{200B}3009080".to_owned(),
        ] {
            let mut settings = Settings::default();
            settings.defaults.line_number = line;
            let problems = settings.validate();
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].key, "defaults.line_number");
            assert!(matches!(problems[0].kind, ProblemKind::Number(_)));
        }
    }
}
