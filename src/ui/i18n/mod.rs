//! Every word the window shows, in English and Russian: one catalogue, chosen from the
//! system locale or the settings. Templates use `{}` for their arguments, filled in order.
//! `catalogue` is the shape of a language's words, `en` and `ru` fill it, and `wording` turns
//! codes, errors and counts into them.

mod catalogue;
mod en;
mod ru;
mod wording;

pub use catalogue::Texts;
pub use en::EN;
pub use ru::RU;

/// An interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// English.
    #[default]
    En,
    /// Russian.
    Ru,
}

impl Language {
    /// Both languages, for the switch.
    pub const ALL: [Self; 2] = [Self::En, Self::Ru];

    /// The code kept in the settings.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ru => "ru",
        }
    }

    /// The language's own name.
    pub fn name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Ru => "Русский",
        }
    }

    /// Reads a code or a locale (`ru`, `ru-RU`, `ru_RU.UTF-8`); `None` for other languages.
    pub fn from_code(code: &str) -> Option<Self> {
        let lang = code
            .split(['_', '-', '.', '@'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match lang.as_str() {
            "en" => Some(Self::En),
            "ru" => Some(Self::Ru),
            _ => None,
        }
    }

    /// The language a setting names, or `system` when it names none of ours.
    pub fn chosen(setting: Option<&str>, system: Self) -> Self {
        setting.and_then(Self::from_code).unwrap_or(system)
    }

    /// The language of the first locale that names one of ours (as `LC_ALL`,
    /// `LC_MESSAGES`, `LANG` are tried in order), English otherwise.
    pub fn from_locales<'a>(locales: impl IntoIterator<Item = &'a str>) -> Self {
        locales
            .into_iter()
            .filter(|l| !l.is_empty() && *l != "C" && *l != "POSIX")
            .find_map(Self::from_code)
            .unwrap_or_default()
    }

    /// The catalogue.
    pub fn texts(self) -> &'static Texts {
        match self {
            Self::En => &EN,
            Self::Ru => &RU,
        }
    }
}

/// Fills `{}` in `template` with `args`, in order.
pub fn fill(template: &str, args: &[&dyn std::fmt::Display]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut args = args.iter();
    let mut rest = template;
    while let Some(i) = rest.find("{}") {
        out.push_str(&rest[..i]);
        if let Some(arg) = args.next() {
            out.push_str(&arg.to_string());
        }
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{EN, Language, RU, fill};
    use crate::domain::CallRequest;

    #[test]
    fn language_from_the_locale() {
        assert_eq!(
            Language::from_locales(["", "ru_RU.UTF-8", "en_US"]),
            Language::Ru
        );
        assert_eq!(Language::from_locales(["C", "en_GB.UTF-8"]), Language::En);
        assert_eq!(Language::from_locales(["de_DE.UTF-8"]), Language::En);
        assert_eq!(Language::from_code("ru-RU"), Some(Language::Ru));
    }

    #[test]
    fn templates_and_plurals() {
        assert_eq!(fill("Task {} of {}", &[&7, &"x"]), "Task 7 of x");
        assert_eq!(RU.jobs(1), "1 задание в очереди");
        assert_eq!(RU.jobs(3), "3 задания в очереди");
        assert_eq!(RU.jobs(11), "11 заданий в очереди");
        assert_eq!(RU.jobs(22), "22 задания в очереди");
        assert_eq!(EN.jobs(1), "1 job waiting");
        assert_eq!(EN.jobs(5), "5 jobs waiting");
        assert_eq!(EN.jobs(0), "nothing waiting");
    }

    #[test]
    fn input_errors_read_in_both_languages() {
        let err = CallRequest::parse("12a", "+7495", None, None, vec![]).unwrap_err();
        assert_eq!(
            EN.input_error(&err),
            err.to_string(),
            "the English catalogue matches the domain's words"
        );
        assert!(
            RU.input_error(&err)
                .starts_with("Откуда: в номере есть «a»")
        );
    }

    #[test]
    fn advice_falls_back_to_the_message() {
        assert_eq!(
            RU.advice(Some("empty_file"), "x"),
            "запись пустая: выберите настоящий файл записи"
        );
        assert_eq!(RU.advice(Some("brand_new_code"), "as sent"), "as sent");
        // The settings' own refusals are in Russian too, saying what to write.
        assert!(
            RU.advice(Some("bad_baresip"), "x")
                .contains("127.0.0.1:4444")
        );
    }

    fn cyrillic(text: &str) -> bool {
        text.chars()
            .any(|c| ('а'..='я').contains(&c.to_lowercase().next().unwrap_or(c)))
    }

    #[test]
    fn every_code_has_words_in_both_languages() {
        for code in crate::domain::codes::ALL {
            for (name, texts) in [("en", &EN), ("ru", &RU)] {
                let words = texts.advice(Some(code), "");
                assert!(!words.is_empty(), "{code} has no {name} words");
            }
            let ru = RU.advice(Some(code), "");
            assert!(
                cyrillic(&ru),
                "{code}: the Russian words are not Russian: {ru}"
            );
            assert!(
                !cyrillic(&EN.advice(Some(code), "")),
                "{code}: the English words are Russian"
            );
        }
        // Nothing in the tables is left over from a code that is gone.
        for (code, _) in EN.advice.iter().chain(RU.advice) {
            assert!(
                crate::domain::codes::ALL.contains(code),
                "{code} is worded but not a known code"
            );
        }
    }

    #[test]
    fn every_notice_reads_in_both_languages() {
        for kind in crate::bus::NoticeKind::ALL {
            let notice = crate::bus::Notice::new(kind, "disk I/O error");
            let (en, ru) = (EN.notice(&notice), RU.notice(&notice));
            assert!(!en.is_empty() && !cyrillic(&en), "{kind:?}: {en}");
            assert!(cyrillic(&ru), "{kind:?} is not Russian: {ru}");
            assert!(!ru.contains("disk I/O"), "the system's words stay on hover");
        }
        let why = crate::bus::Notice::new(crate::bus::NoticeKind::Credentials, "x")
            .with_code("key_missing");
        assert!(RU.notice(&why).contains("«Ввести ключ»"));
    }
}
