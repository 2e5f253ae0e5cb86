//! Phone numbers: parsed once at the edge, masked whenever they are printed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a text is not a phone number. Each message says what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing but blanks.
    #[error("the number is empty: type digits, optionally starting with +")]
    Empty,
    /// A character that has no place in a phone number.
    #[error(
        "the number contains '{0}': use digits, optionally a leading + and spaces, dashes, dots or brackets"
    )]
    BadCharacter(char),
    /// A `+` somewhere other than the start.
    #[error("'+' may only stand at the start of the number")]
    MisplacedPlus,
    /// Fewer digits than any real number has.
    #[error("the number has {digits} digit(s): at least {min} are needed")]
    TooShort {
        /// Digits found.
        digits: usize,
        /// Digits required.
        min: usize,
    },
    /// More digits than E.164 allows.
    #[error("the number has {0} digits: at most 15 are allowed (E.164)")]
    TooLong(usize),
    /// A country code that names no country.
    #[error("'{0}' is not a country code: use two letters such as RU, KZ or DE")]
    UnknownCountry(String),
}

/// The country assumed for numbers typed without a country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country(phonenumber::country::Id);

impl Country {
    /// Reads a two-letter ISO 3166 code, in any case.
    pub fn parse(code: &str) -> Result<Self, PhoneError> {
        code.trim()
            .to_ascii_uppercase()
            .parse::<phonenumber::country::Id>()
            .map(Self)
            .map_err(|_| PhoneError::UnknownCountry(code.trim().to_owned()))
    }

    /// The two-letter code.
    pub fn code(self) -> String {
        self.0.as_ref().to_owned()
    }
}

/// A phone number, normalised to an optional leading `+` followed by digits.
///
/// `Display` and `Debug` mask all but the last four digits so logs never carry a whole
/// number; [`PhoneNumber::as_str`] gives the full form for the API and the agent's own screen.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

const MAX_DIGITS: usize = 15;
const MIN_NUMBER_DIGITS: usize = 3;

impl PhoneNumber {
    /// Parses a caller or callee number: at least 3 digits.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        Self::parse_with_min(input, MIN_NUMBER_DIGITS)
    }

    /// Parses a caller or callee number and, when it is a valid number — with its own `+`
    /// country code, or in `country` — rewrites it in E.164 (`8 977 422-13-38` in RU becomes
    /// `+79774221338`). Numbers that cannot be recognised are kept as typed (digits only).
    pub fn parse_in(input: &str, country: Option<Country>) -> Result<Self, PhoneError> {
        Ok(Self::parse(input)?.normalised(country))
    }

    /// The one normalisation every number goes through, whichever way it arrived (typed,
    /// heard from a softphone or a phone, a `tel:` link, the settings): E.164 when it is a
    /// valid number with its own `+` country code or in `country`, else kept as it is
    /// (extensions, service numbers).
    #[must_use]
    pub fn normalised(self, country: Option<Country>) -> Self {
        self.to_e164(country).unwrap_or(self)
    }

    fn to_e164(&self, country: Option<Country>) -> Option<Self> {
        let region = if self.0.starts_with('+') {
            None
        } else {
            Some(country?.0)
        };
        let parsed = phonenumber::parse(region, &self.0).ok()?;
        if !phonenumber::is_valid(&parsed) {
            return None;
        }
        Some(Self(
            parsed.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    /// Loads the phone-number database (a noticeable pause the first time), so that the
    /// first number the agent types is previewed at once. Call it off the UI thread.
    pub fn warm_up() {
        phonenumber::parse(None, "+74953009080").ok();
    }

    /// True when the number is in E.164 form (a `+` and the country code).
    pub fn is_e164(&self) -> bool {
        self.0.starts_with('+')
    }

    /// Parses an operator's internal number (extension): at least 1 digit.
    pub fn parse_extension(input: &str) -> Result<Self, PhoneError> {
        Self::parse_with_min(input, 1)
    }

    fn parse_with_min(input: &str, min: usize) -> Result<Self, PhoneError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(PhoneError::Empty);
        }
        let mut out = String::with_capacity(text.len());
        for (i, c) in text.chars().enumerate() {
            match c {
                '0'..='9' => out.push(c),
                '+' if i == 0 => out.push('+'),
                '+' => return Err(PhoneError::MisplacedPlus),
                ' ' | '-' | '.' | '(' | ')' | '\u{a0}' => {}
                other => return Err(PhoneError::BadCharacter(other)),
            }
        }
        let digits = out.trim_start_matches('+').len();
        if digits < min {
            return Err(PhoneError::TooShort { digits, min });
        }
        if digits > MAX_DIGITS {
            return Err(PhoneError::TooLong(digits));
        }
        Ok(Self(out))
    }

    /// The full number, for the API request and the agent's own screen.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number grouped for reading, by rule (the numbering tables cost a few MiB, and the
    /// list shows numbers from its first frame): the country code apart, then the national
    /// number as its plan writes it where the rule is plain — `+7 916 123-45-67`,
    /// `+1 415-555-0132`, `+33 1 23 45 67 89`, `+375 29 123-45-67` — and in threes elsewhere
    /// (`+49 301 234 567`). An extension, or anything not E.164, as it is.
    pub fn grouped(&self) -> String {
        let Some(digits) = self.0.strip_prefix('+') else {
            return self.0.clone();
        };
        let cc = country_code_len(digits);
        let (code, n) = digits.split_at(cc.min(digits.len()));
        if n.len() < 5 {
            return self.0.clone();
        }
        let national = match (code, n.len()) {
            ("7", 10) => format!("{} {}-{}-{}", &n[..3], &n[3..6], &n[6..8], &n[8..]),
            ("1", 10) => format!("{}-{}-{}", &n[..3], &n[3..6], &n[6..]),
            ("33", 9) => format!(
                "{} {} {} {} {}",
                &n[..1],
                &n[1..3],
                &n[3..5],
                &n[5..7],
                &n[7..]
            ),
            ("375" | "380" | "998" | "992" | "996", 9) => {
                format!("{} {}-{}-{}", &n[..2], &n[2..5], &n[5..7], &n[7..])
            }
            _ => in_threes(n),
        };
        format!("+{code} {national}")
    }
    /// The masked form used by `Display`: all but the last four digits replaced by `*`.
    pub fn masked(&self) -> String {
        let keep = 4;
        let digits = self.0.trim_start_matches('+').len();
        let hide = digits.saturating_sub(keep).max(usize::from(digits > 1));
        let mut seen = 0;
        self.0
            .chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    seen += 1;
                    if seen <= hide { '*' } else { c }
                } else {
                    c
                }
            })
            .collect()
    }
}

/// How many leading digits of an E.164 number (without `+`) are its country code, by the ITU
/// plan's shape: 1 and 7 alone; the two-digit codes of zones 2–9 listed; three digits else.
fn country_code_len(digits: &str) -> usize {
    const TWO: [&str; 44] = [
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
    ];
    match digits.as_bytes().first() {
        Some(b'1' | b'7') => 1,
        _ if digits.get(..2).is_some_and(|two| TWO.contains(&two)) => 2,
        _ => 3,
    }
}

/// Digits in groups of three: a first group of two rather than a last of two, a last group of
/// four rather than one of one (`30 123 456`, `123 456 7890`).
fn in_threes(n: &str) -> String {
    let first = match n.len() % 3 {
        2 => 2,
        _ => 3,
    };
    let mut groups = vec![&n[..first]];
    let mut rest = &n[first..];
    while rest.len() > 4 {
        let (head, tail) = rest.split_at(3);
        groups.push(head);
        rest = tail;
    }
    groups.push(rest);
    groups.join(" ")
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse_extension(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> Self {
        value.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::{PhoneError, PhoneNumber};

    #[test]
    fn normalises_separators() {
        let n = PhoneNumber::parse(" +7 (977) 422-13.38 ").unwrap();
        assert_eq!(n.as_str(), "+79774221338");
    }

    #[test]
    fn rejects_what_is_not_a_number() {
        assert_eq!(PhoneNumber::parse(""), Err(PhoneError::Empty));
        assert_eq!(
            PhoneNumber::parse("12a4"),
            Err(PhoneError::BadCharacter('a'))
        );
        assert_eq!(PhoneNumber::parse("7+7"), Err(PhoneError::MisplacedPlus));
        assert!(matches!(
            PhoneNumber::parse("12"),
            Err(PhoneError::TooShort { digits: 2, min: 3 })
        ));
        assert_eq!(
            PhoneNumber::parse("1234567890123456"),
            Err(PhoneError::TooLong(16))
        );
        assert_eq!(PhoneNumber::parse_extension("7").unwrap().as_str(), "7");
    }

    #[test]
    fn e164_with_a_default_country() {
        use super::Country;
        let ru = Some(Country::parse("ru").unwrap());
        assert_eq!(
            PhoneNumber::parse_in("8 977 422-13-38", ru)
                .unwrap()
                .as_str(),
            "+79774221338"
        );
        assert_eq!(
            PhoneNumber::parse_in("(495) 300-90-80", ru)
                .unwrap()
                .as_str(),
            "+74953009080"
        );
        assert_eq!(
            PhoneNumber::parse_in("+7 977 422 13 38", None)
                .unwrap()
                .as_str(),
            "+79774221338"
        );
        // What cannot be recognised is kept as typed.
        assert_eq!(PhoneNumber::parse_in("112", ru).unwrap().as_str(), "112");
        assert_eq!(
            PhoneNumber::parse_in("8 977 422-13-38", None)
                .unwrap()
                .as_str(),
            "89774221338"
        );
        assert!(PhoneNumber::parse_in("8 977 abc", ru).is_err());
        assert!(Country::parse("XX").is_err());
        assert_eq!(Country::parse("de").unwrap().code(), "DE");
    }

    #[test]
    fn display_masks_all_but_the_last_four_digits() {
        let n = PhoneNumber::parse("+79774221338").unwrap();
        assert_eq!(n.to_string(), "+*******1338");
        assert!(!format!("{n:?}").contains("7977"));
        assert_eq!(
            PhoneNumber::parse_extension("200").unwrap().to_string(),
            "*00"
        );
    }

    #[test]
    fn numbers_are_grouped_for_reading() {
        let grouped = |n: &str| PhoneNumber::parse(n).unwrap().grouped();
        assert_eq!(grouped("+79161234567"), "+7 916 123-45-67");
        assert_eq!(grouped("+74953009080"), "+7 495 300-90-80");
        assert_eq!(grouped("+14155550132"), "+1 415-555-0132");
        assert_eq!(grouped("+33123456789"), "+33 1 23 45 67 89");
        assert_eq!(grouped("+375291234567"), "+375 29 123-45-67");
        assert_eq!(
            grouped("+4930123456"),
            "+49 30 123 456",
            "other plans in threes"
        );
        assert_eq!(grouped("+442079460958"), "+44 207 946 0958");
        assert_eq!(grouped("+35312345678"), "+353 12 345 678");
        assert_eq!(grouped("+380441234567"), "+380 44 123-45-67");
        assert_eq!(grouped("+3531234"), "+3531234", "too short to group");
        assert_eq!(grouped("200"), "200");
        assert_eq!(grouped("89161234567"), "89161234567", "not E.164: as it is");
    }
}
