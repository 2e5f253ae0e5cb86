//! What the sandbox remembers: tokens, tasks with their comments, uploaded files, faults
//! still to fire, the request log and the rate-limit window.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use super::{Fault, Route, SandboxConfig, SandboxUser};

pub(super) struct Token {
    pub login: String,
    pub issued: Instant,
    pub expired: bool,
    pub revoked: bool,
}

pub(super) struct StoredFile {
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
}

/// A comment on a sandbox task.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CommentSnapshot {
    /// What happened, in words.
    pub text: String,
    /// Mappings sent with it (code, value).
    pub mappings: Vec<(String, String)>,
    /// The recording attached with this comment: (guid, file name).
    pub recording: Option<(String, String)>,
}

/// A task as the sandbox holds it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TaskSnapshot {
    /// Task id.
    pub id: u64,
    /// Caller.
    pub from_number: String,
    /// Callee.
    pub to_number: String,
    /// External ids of the calls registered on it.
    pub external_ids: Vec<String>,
    /// Responsible user id.
    pub responsible: Option<String>,
    /// Comments, oldest first.
    pub comments: Vec<CommentSnapshot>,
    /// When it last changed (Unix milliseconds).
    pub modified_ms: i64,
}

/// A customer's task in the sandbox's form: one it started with, or one a test added.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CustomerTask {
    /// Task id.
    pub id: u64,
    /// Its title.
    pub subject: String,
    /// The customer's phone, as the person who typed it wrote it.
    pub phone: String,
    /// The step it is on (1-based).
    pub step: u32,
    /// Closed (archived).
    pub closed: bool,
    /// Responsible user id.
    pub responsible: Option<String>,
    /// When it was created (Unix milliseconds).
    pub created_ms: i64,
    /// When it last changed (Unix milliseconds).
    pub modified_ms: i64,
    /// Comments, oldest first.
    pub comments: Vec<CommentSnapshot>,
}

/// One request the sandbox received.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Path (no query).
    pub path: String,
    /// Which endpoint, when it is an API one.
    pub route: Option<Route>,
    /// Status sent back.
    pub status: u16,
}

pub(super) struct State {
    pub config: SandboxConfig,
    pub base: String,
    pub tokens: BTreeMap<String, Token>,
    pub token_order: Vec<String>,
    pub tasks: Vec<TaskSnapshot>,
    pub customers: Vec<CustomerTask>,
    pub files: HashMap<String, StoredFile>,
    pub faults: Vec<Fault>,
    pub requests: Vec<RequestRecord>,
    pub window_start: Instant,
    pub window_count: u32,
}

pub(super) enum TokenCheck {
    Ok,
    Missing,
    Invalid,
    Expired,
    Revoked,
}

impl State {
    pub fn new(config: SandboxConfig, base: String) -> Self {
        let now = now_ms();
        let customers = config
            .customers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let age = i64::from(c.age_minutes) * 60_000;
                CustomerTask {
                    id: FIRST_CUSTOMER_ID + i as u64,
                    subject: c.subject.clone(),
                    phone: c.phone.clone(),
                    step: c.step,
                    closed: c.closed,
                    responsible: c.responsible.clone(),
                    created_ms: now - age - 60_000,
                    modified_ms: now - age,
                    comments: Vec::new(),
                }
            })
            .collect();
        Self {
            config,
            base,
            tokens: BTreeMap::new(),
            token_order: Vec::new(),
            tasks: Vec::new(),
            customers,
            files: HashMap::new(),
            faults: Vec::new(),
            requests: Vec::new(),
            window_start: Instant::now(),
            window_count: 0,
        }
    }

    pub fn issue_token(&mut self, login: &str) -> String {
        let token = format!("sbx{}", random_hex(24));
        self.tokens.insert(
            token.clone(),
            Token {
                login: login.to_owned(),
                issued: Instant::now(),
                expired: false,
                revoked: false,
            },
        );
        self.token_order.push(token.clone());
        // Issuing past the per-login limit silently revokes the oldest live token.
        let live: Vec<String> = self
            .token_order
            .iter()
            .filter(|t| {
                self.tokens
                    .get(*t)
                    .is_some_and(|k| k.login == login && !k.revoked && !k.expired)
            })
            .cloned()
            .collect();
        if live.len() > self.config.tokens_per_login
            && let Some(old) = live.first().and_then(|t| self.tokens.get_mut(t))
        {
            old.revoked = true;
        }
        token
    }

    pub fn check_token(&self, token: Option<&str>) -> TokenCheck {
        let Some(token) = token else {
            return TokenCheck::Missing;
        };
        let Some(info) = self.tokens.get(token) else {
            return TokenCheck::Invalid;
        };
        if info.revoked {
            return TokenCheck::Revoked;
        }
        let too_old = self
            .config
            .token_ttl
            .is_some_and(|ttl| info.issued.elapsed() > ttl);
        if info.expired || too_old {
            return TokenCheck::Expired;
        }
        TokenCheck::Ok
    }

    pub fn expire_tokens(&mut self) {
        for token in self.tokens.values_mut() {
            token.expired = true;
        }
    }

    /// Takes the first fault that applies to `route`.
    pub fn take_fault(&mut self, route: Route) -> Option<Fault> {
        let index = self
            .faults
            .iter()
            .position(|f| f.route == route || (f.route == Route::Any && route != Route::Auth))?;
        let fault = self.faults[index];
        if fault.times <= 1 {
            self.faults.remove(index);
        } else {
            self.faults[index].times -= 1;
        }
        Some(fault)
    }

    /// Counts a request against the window; returns (remaining, seconds to reset) or
    /// `None` when over the limit.
    pub fn count_request(&mut self) -> (Option<u32>, u64) {
        if self.window_start.elapsed() >= self.config.rate_window {
            self.window_start = Instant::now();
            self.window_count = 0;
        }
        let reset = self
            .config
            .rate_window
            .saturating_sub(self.window_start.elapsed())
            .as_secs()
            .max(1);
        if self.window_count >= self.config.rate_limit {
            return (None, reset);
        }
        self.window_count += 1;
        (Some(self.config.rate_limit - self.window_count), reset)
    }

    pub fn user_by_phone(&self, phone: &str) -> Option<SandboxUser> {
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        let wanted = digits(phone);
        self.config
            .users
            .iter()
            .find(|u| !wanted.is_empty() && digits(&u.work_phone) == wanted)
            .cloned()
    }

    pub fn snapshot(&self) -> Vec<TaskSnapshot> {
        self.tasks.clone()
    }
}

/// The first customer task's id (call tasks count from 1).
pub(super) const FIRST_CUSTOMER_ID: u64 = 20_000_001;

/// Now, in Unix milliseconds.
pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Random lower-case hex of `bytes` bytes.
pub(super) fn random_hex(bytes: usize) -> String {
    use rand::RngCore as _;
    let mut buf = vec![0_u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random id shaped like the guids Pyrus returns.
pub(super) fn random_guid() -> String {
    let h = random_hex(16);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}
