//! What the hook doctor shows about the call sources: each one's health, the last raw
//! messages it received and what became of them, and the exact lines to paste into MicroSIP
//! and into a desk phone's Action URL settings.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Secret;

/// Raw messages kept per source.
pub const RAW_KEPT: usize = 50;
/// Longest raw message text kept (longer ones are cut).
pub const RAW_TEXT_CHARS: usize = 400;

/// Where a call event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceId {
    /// The HTTP hook: softphone URL hooks and desk phones' Action URLs.
    Http,
    /// `pyrus-phone event …` from a softphone's command hook (forwarded over the HTTP hook).
    Command,
    /// baresip's `ctrl_tcp`.
    Baresip,
    /// "Simulate a call" in the hook doctor.
    Simulated,
    /// Twinkle's call scripts (`pyrus-phone event --twinkle`, forwarded over the HTTP hook).
    Twinkle,
}

impl SourceId {
    /// Every source, in the order the doctor lists them.
    pub const ALL: [Self; 5] = [
        Self::Command,
        Self::Http,
        Self::Baresip,
        Self::Twinkle,
        Self::Simulated,
    ];

    /// The name events carry in `CallEvent::source`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Command => "command",
            Self::Baresip => "baresip",
            Self::Simulated => "simulated",
            Self::Twinkle => "twinkle",
        }
    }
}

/// What became of a raw message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// It became a call event.
    Accepted,
    /// It was refused, and why (the answer the sender got).
    Refused(String),
    /// It was read but carries no call event (e.g. baresip's SDP events).
    Ignored,
    /// We sent it (a command to the softphone).
    Sent,
    /// It became a call, stored and waiting for something before it can be registered
    /// (the reason says what).
    Waiting(String),
}

/// One raw message as a source received it (tokens blanked out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawMessage {
    /// When it came (Unix ms).
    pub at_ms: i64,
    /// The message: an HTTP request line and body, a baresip netstring's JSON, …
    pub text: String,
    /// What became of it.
    pub verdict: Verdict,
}

impl RawMessage {
    /// A message, its text cut to [`RAW_TEXT_CHARS`].
    pub fn new(at_ms: i64, text: &str, verdict: Verdict) -> Self {
        let cut = text.chars().count() > RAW_TEXT_CHARS;
        let mut kept: String = text.chars().take(RAW_TEXT_CHARS).collect();
        if cut {
            kept.push('…');
        }
        Self {
            at_ms,
            text: kept,
            verdict,
        }
    }
}

/// Where the hook's token comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenOrigin {
    /// Kept in the OS keyring: the same on every start (desk phones can store it).
    Keyring,
    /// Made for this run only, and why the keyring could not keep it.
    ThisRun(String),
}

/// The HTTP hook's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookHealth {
    /// The address it listens on, when it does.
    pub listening: Option<String>,
    /// Why it does not listen, or why not on its configured port.
    pub problem: Option<String>,
    /// The configured port, when another program holds it and the hook listens on a free
    /// port instead (command hooks work; desk phones, set up with the fixed port, do not).
    #[serde(default)]
    pub taken_port: Option<u16>,
    /// Where its token comes from.
    pub token_origin: TokenOrigin,
    /// Addresses other than this computer allowed to send events (empty: loopback only).
    pub allow: Vec<String>,
}

/// baresip's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaresipHealth {
    /// Its `ctrl_tcp` address.
    pub addr: String,
    /// Connected now.
    pub connected: bool,
    /// The last connection error.
    pub problem: Option<String>,
}

/// Twinkle on this computer, as the doctor shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwinkleHealth {
    /// Its folder (`~/.twinkle`).
    pub dir: PathBuf,
    /// Each profile, and how many of its eight call scripts run pyrus-phone.
    pub profiles: Vec<(String, usize)>,
    /// Its call history is there to read.
    pub history: bool,
}

impl TwinkleHealth {
    /// True when every profile runs pyrus-phone from all eight scripts.
    pub fn set_up(&self) -> bool {
        !self.profiles.is_empty() && self.profiles.iter().all(|(_, ours)| *ours == 8)
    }
}

/// The recording folder's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderHealth {
    /// The folder.
    pub path: PathBuf,
    /// Why it cannot be read (`None`: readable).
    pub problem: Option<String>,
}

/// Everything the hook doctor shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourcesReport {
    /// The HTTP hook (`None`: switched off).
    pub hook: Option<HookHealth>,
    /// The hook's token, for the settings and the Action URL.
    pub token: Option<Secret>,
    /// baresip (`None`: not configured).
    pub baresip: Option<BaresipHealth>,
    /// The recording folder (`None`: not configured).
    pub recordings: Option<FolderHealth>,
    /// Twinkle (`None`: no `~/.twinkle` here).
    pub twinkle: Option<TwinkleHealth>,
    /// Why heard calls cannot be stored in the outbox now (they are refused until fixed).
    pub outbox_problem: Option<String>,
    /// The last raw messages of each source, newest first.
    pub raw: Vec<(SourceId, Vec<RawMessage>)>,
    /// This program, as a command hook should start it.
    pub program: String,
    /// The address desk phones reach the hook at (this computer's LAN address when the hook
    /// listens on the network, else 127.0.0.1).
    pub host: String,
}

/// An incoming call ringing now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingingCall {
    /// Who calls.
    pub number: super::PhoneNumber,
    /// The source's id for the call, when it has one.
    pub call_id: Option<String>,
    /// Which source heard it.
    pub source: super::EventSource,
    /// When it started ringing (Unix ms).
    pub since_ms: i64,
}

/// MicroSIP's hook keys and the event each one sends.
pub const MICROSIP_HOOKS: [(&str, &str); 5] = [
    ("cmdIncomingCall", "ring"),
    ("cmdCallAnswer", "answer"),
    ("cmdCallEnd", "end"),
    ("cmdCallBusy", "end"),
    ("cmdOutgoingCall", "outgoing"),
];

/// MicroSIP reads each hook value into a 256-character buffer.
pub const MICROSIP_VALUE_MAX: usize = 255;

/// The `[Settings]` lines for `microsip.ini`: MicroSIP appends the number to each.
pub fn microsip_lines(program: &str) -> Vec<String> {
    let program = if program.contains(' ') {
        format!("\"{program}\"")
    } else {
        program.to_owned()
    };
    MICROSIP_HOOKS
        .iter()
        .map(|(key, event)| format!("{key}={program} event {event}"))
        .collect()
}

/// True when a `microsip.ini` line's value fits MicroSIP's buffer.
pub fn microsip_line_fits(line: &str) -> bool {
    line.split_once('=')
        .is_none_or(|(_, value)| value.chars().count() <= MICROSIP_VALUE_MAX)
}

/// A desk phone's Action URL for `event` (Yealink variables: `$remote`, `$call_id`).
pub fn action_url(host: &str, port: u16, token: &str, event: &str) -> String {
    format!(
        "http://{host}:{port}/events?token={token}&event={event}&number=$remote&call_id=$call_id"
    )
}

/// Why the hook's allow-list cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowListError {
    /// An entry that is not an address.
    #[error("'{0}' is not an address: write one like 192.168.1.20 or 192.168.1.0/24")]
    NotAnAddress(String),
    /// A network whose prefix length is out of range.
    #[error("'{entry}': the part after / must be 0 to {max}")]
    BadPrefix {
        /// The entry as written.
        entry: String,
        /// The longest prefix for its kind of address.
        max: u8,
    },
    /// Listening on the network with nobody allowed.
    #[error(
        "listening on the network needs the phones' addresses: list them in hook.allow (e.g. 192.168.1.20 or 192.168.1.0/24)"
    )]
    Empty,
}

/// One entry of the hook's allow-list: an address, or a network in CIDR form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowRule {
    addr: core::net::IpAddr,
    prefix: u8,
}

impl AllowRule {
    /// Reads `192.168.1.20`, `192.168.1.0/24` or an IPv6 form.
    pub fn parse(text: &str) -> Result<Self, AllowListError> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: core::net::IpAddr = addr
            .parse()
            .map_err(|_| AllowListError::NotAnAddress(text.to_owned()))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| {
                AllowListError::BadPrefix {
                    entry: text.to_owned(),
                    max,
                }
            })?,
        };
        Ok(Self { addr, prefix })
    }

    /// True when `ip` is this address or inside this network.
    pub fn contains(&self, ip: core::net::IpAddr) -> bool {
        let ip = match ip {
            core::net::IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map_or(core::net::IpAddr::V6(v6), core::net::IpAddr::V4),
            v4 @ core::net::IpAddr::V4(_) => v4,
        };
        match (self.addr, ip) {
            (core::net::IpAddr::V4(net), core::net::IpAddr::V4(ip)) => {
                let shift = 32 - u32::from(self.prefix);
                shift == 32 || (u32::from(net) >> shift) == (u32::from(ip) >> shift)
            }
            (core::net::IpAddr::V6(net), core::net::IpAddr::V6(ip)) => {
                let shift = 128 - u32::from(self.prefix);
                shift == 128 || (u128::from(net) >> shift) == (u128::from(ip) >> shift)
            }
            _ => false,
        }
    }
}

/// Reads an allow-list; the first bad entry is the error.
pub fn parse_allow_list(entries: &[String]) -> Result<Vec<AllowRule>, AllowListError> {
    entries.iter().map(|e| AllowRule::parse(e)).collect()
}

#[cfg(test)]
mod tests {
    use super::{
        AllowListError, AllowRule, RawMessage, Verdict, action_url, microsip_line_fits,
        microsip_lines,
    };

    #[test]
    fn allow_rules_match_addresses_and_networks() {
        let one = AllowRule::parse("192.168.1.20").unwrap();
        assert!(one.contains("192.168.1.20".parse().unwrap()));
        assert!(!one.contains("192.168.1.21".parse().unwrap()));
        let net = AllowRule::parse(" 10.0.0.0/8 ").unwrap();
        assert!(net.contains("10.200.3.4".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        assert!(
            AllowRule::parse("fd00::/8")
                .unwrap()
                .contains("fd12::1".parse().unwrap())
        );
        assert!(
            AllowRule::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert_eq!(
            AllowRule::parse("phone.local"),
            Err(AllowListError::NotAnAddress("phone.local".to_owned()))
        );
        let too_long = AllowRule::parse("10.0.0.0/33").unwrap_err();
        assert!(too_long.to_string().contains("0 to 32"), "{too_long}");
    }

    #[test]
    fn microsip_lines_quote_paths_with_spaces_and_end_with_the_event() {
        let lines = microsip_lines(r"C:\Program Files\pyrus-phone\pyrus-phone.exe");
        assert_eq!(
            lines[0],
            r#"cmdIncomingCall="C:\Program Files\pyrus-phone\pyrus-phone.exe" event ring"#
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("cmdCallEnd=") && l.ends_with("event end"))
        );
        assert!(lines.iter().all(|l| microsip_line_fits(l)));
        let long = microsip_lines(&"x".repeat(260));
        assert!(!microsip_line_fits(&long[0]));
        assert_eq!(
            microsip_lines("/usr/bin/pyrus-phone")[1],
            "cmdCallAnswer=/usr/bin/pyrus-phone event answer"
        );
    }

    #[test]
    fn action_urls_carry_the_token_and_the_phone_variables() {
        assert_eq!(
            action_url("192.168.1.5", 47812, "t0k", "ring"),
            "http://192.168.1.5:47812/events?token=t0k&event=ring&number=$remote&call_id=$call_id"
        );
    }

    #[test]
    fn raw_messages_are_cut_with_an_ellipsis() {
        let m = RawMessage::new(1, &"a".repeat(1000), Verdict::Accepted);
        assert_eq!(m.text.chars().count(), super::RAW_TEXT_CHARS + 1);
        assert!(m.text.ends_with('…'));
        assert_eq!(RawMessage::new(1, "short", Verdict::Ignored).text, "short");
    }
}
