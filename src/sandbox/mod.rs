//! The built-in Pyrus: a local server that follows the documented v4 API strictly.
//!
//! It serves `/auth`, `integrations/call`, `files/upload`, `integrations/attachcallrecord`,
//! `forms/{id}`, the form's register (its customers' tasks, phones stored as typed),
//! `tasks/{id}` and the task page a browser opens, on non-default paths so that a client
//! which ignores `api_url`/`files_url` fails against it. Faults (500, 429, dropped
//! connections, slow replies, token expiry) can be injected for tests. It is an independent
//! reading of the API: it shares no code with `crate::pyrus`.

mod api;
mod page;
mod register;
mod reply;
mod state;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

pub use state::{CommentSnapshot, CustomerTask, RequestRecord, TaskSnapshot};

/// Demo login of the built-in sandbox.
pub const DEMO_LOGIN: &str = "demo@sandbox.pyrus-phone";
/// Demo security key of the built-in sandbox (not a secret: it opens only the sandbox).
pub const DEMO_SECURITY_KEY: &str = "demo-security-key";
/// Demo extension account id of the built-in sandbox.
pub const DEMO_ACCOUNT_ID: &str = "demo-account";
/// Id of the sandbox's one form.
pub const DEMO_FORM_ID: u64 = 1;

/// A Pyrus user the sandbox knows; `internal_number` is matched against `work_phone`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SandboxUser {
    /// User id (a string, as Pyrus returns it).
    pub user_id: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Work phone.
    pub work_phone: String,
}

/// A field of the sandbox form.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SandboxField {
    /// Field id.
    pub id: u64,
    /// Display name.
    pub name: String,
    /// Pyrus field type.
    pub field_type: String,
    /// The code mappings use.
    pub code: String,
    /// Choice options for `multiple_choice` fields.
    pub options: Vec<String>,
}

/// A customer's task the sandbox starts with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SandboxCustomer {
    /// Its title.
    pub subject: String,
    /// The customer's phone, as typed (`+7 916 123-45-67`, `8 (916) 765-43-21`…).
    pub phone: String,
    /// The step it is on (1-based, see [`SandboxConfig::steps`]).
    pub step: u32,
    /// Closed (archived).
    pub closed: bool,
    /// Responsible user id.
    pub responsible: Option<String>,
    /// How long ago it last changed, in minutes.
    pub age_minutes: u32,
}

impl SandboxCustomer {
    /// An open task on step 1, changed `age_minutes` ago.
    pub fn open(subject: &str, phone: &str, age_minutes: u32) -> Self {
        Self {
            subject: subject.to_owned(),
            phone: phone.to_owned(),
            step: 1,
            closed: false,
            responsible: None,
            age_minutes,
        }
    }

    /// `count` customers' tasks for load: phones `+7 900 000-00-00` on, typed three ways in
    /// turn (grouped, national with brackets, bare E.164), one in five closed.
    pub fn generated(count: u32) -> Vec<Self> {
        (0..count)
            .map(|i| {
                let n = format!("{i:07}");
                let phone = match i % 3 {
                    0 => format!("+7 900 {}-{}-{}", &n[..3], &n[3..5], &n[5..]),
                    1 => format!("8 (900) {}-{}-{}", &n[..3], &n[3..5], &n[5..]),
                    _ => format!("+7900{n}"),
                };
                let task = Self::open(
                    &format!("Customer {i}: order {}", i * 7 % 1000),
                    &phone,
                    i % 5000,
                );
                if i % 5 == 4 { task.closed() } else { task }
            })
            .collect()
    }

    /// The same task, closed on the last step.
    #[must_use]
    pub fn closed(mut self) -> Self {
        self.closed = true;
        self.step = 3;
        self
    }
}

/// How the sandbox behaves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Accepted login.
    pub login: String,
    /// Accepted security key.
    pub security_key: String,
    /// Accepted extension account id.
    pub account_id: String,
    /// Users for `internal_number` matching.
    pub users: Vec<SandboxUser>,
    /// The form's fields; mapping codes must be among them.
    pub fields: Vec<SandboxField>,
    /// Where uploaded files are kept.
    pub files_dir: PathBuf,
    /// Token lifetime; `None` for tokens that live until revoked.
    pub token_ttl: Option<Duration>,
    /// Tokens per login before the oldest is revoked.
    pub tokens_per_login: usize,
    /// Requests allowed per rate-limit window.
    pub rate_limit: u32,
    /// Length of the rate-limit window.
    pub rate_window: Duration,
    /// Largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
    /// The form's steps, by name (step 1 first).
    pub steps: Vec<String>,
    /// The customers' tasks it starts with.
    pub customers: Vec<SandboxCustomer>,
}

impl SandboxConfig {
    /// The demo configuration: demo credentials, two users, a small telephony form.
    pub fn demo(files_dir: PathBuf) -> Self {
        let user = |id: &str, first: &str, last: &str, phone: &str| SandboxUser {
            user_id: id.to_owned(),
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            work_phone: phone.to_owned(),
        };
        let field = |id: u64, name: &str, ty: &str, code: &str, options: &[&str]| SandboxField {
            id,
            name: name.to_owned(),
            field_type: ty.to_owned(),
            code: code.to_owned(),
            options: options.iter().map(|s| (*s).to_owned()).collect(),
        };
        Self {
            login: DEMO_LOGIN.to_owned(),
            security_key: DEMO_SECURITY_KEY.to_owned(),
            account_id: DEMO_ACCOUNT_ID.to_owned(),
            users: vec![
                user("34231", "Ilya", "Laserson", "200"),
                user("34232", "Анна", "Петрова", "201"),
            ],
            fields: vec![
                field(
                    1,
                    "Subject",
                    "multiple_choice",
                    "Subject",
                    &["Consultation", "Complaint", "Order"],
                ),
                field(2, "Client phone", "phone", "ClientPhone", &[]),
                field(3, "Call start", "date", "CallStartTime", &[]),
                field(4, "Call end", "date", "CallEndTime", &[]),
                field(5, "Order number", "number", "OrderNumber", &[]),
                field(6, "Rating", "number", "Rating", &[]),
                field(7, "Note", "text", "Note", &[]),
                field(
                    8,
                    "Result",
                    "multiple_choice",
                    "Result",
                    &["Resolved", "Call back", "Escalated"],
                ),
                field(
                    9,
                    "Call result",
                    "multiple_choice",
                    "CallResult",
                    &["Answered", "Missed", "Not answered"],
                ),
                field(10, "Talk, seconds", "number", "TalkSeconds", &[]),
            ],
            files_dir,
            token_ttl: None,
            tokens_per_login: 5,
            rate_limit: 5000,
            rate_window: Duration::from_secs(600),
            max_upload_bytes: 2 * 1024 * 1024 * 1024,
            steps: ["New", "In progress", "Done"].map(str::to_owned).to_vec(),
            customers: demo_customers(),
        }
    }

    /// This configuration with no customers' tasks but `customers`.
    #[must_use]
    pub fn with_customers(mut self, customers: Vec<SandboxCustomer>) -> Self {
        self.customers = customers;
        self
    }
}

/// The demo's customers, their phones typed as people type them.
fn demo_customers() -> Vec<SandboxCustomer> {
    let with_person = |c: SandboxCustomer, id: &str| SandboxCustomer {
        responsible: Some(id.to_owned()),
        ..c
    };
    vec![
        with_person(
            SandboxCustomer::open("Order 123 not delivered", "+7 916 123-45-67", 95),
            "34231",
        ),
        with_person(
            SandboxCustomer::open("Refund for order 98", "+7 916 123-45-67", 60 * 24 * 20).closed(),
            "34232",
        ),
        with_person(
            SandboxCustomer {
                step: 2,
                ..SandboxCustomer::open("Router keeps rebooting", "8 (916) 765-43-21", 30)
            },
            "34232",
        ),
        SandboxCustomer::open("Invoice for March", "+79161112233", 60 * 5),
    ]
}

/// Which endpoint a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// `/auth`.
    Auth,
    /// `integrations/call`.
    Call,
    /// `files/upload`.
    Upload,
    /// `integrations/attachcallrecord`.
    Attach,
    /// `forms/{id}`.
    Forms,
    /// `forms/{id}/register`.
    Register,
    /// `tasks/{id}`.
    Tasks,
    /// `tasks/{id}/comments`.
    Comments,
    /// Any API endpoint.
    Any,
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FaultKind {
    /// HTTP 500 with `server_error`.
    ServerError,
    /// HTTP 400 with `invalid_value_format`: a refusal that retrying does not cure.
    InvalidValue,
    /// HTTP 429 with `too_many_requests` and `Retry-After`.
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// The connection breaks before a reply is complete.
    DropConnection,
    /// The reply comes late.
    Slow {
        /// Delay in milliseconds.
        delay_ms: u64,
    },
    /// The request is carried out at once; its reply comes this late.
    LateReply {
        /// Delay in milliseconds.
        delay_ms: u64,
    },
    /// Every token issued so far expires before the request is handled.
    ExpireToken,
    /// The request body is read no faster than this (a slow office uplink).
    Throttle {
        /// Bytes per second.
        bytes_per_sec: u64,
    },
}

/// A fault for the next `times` requests to `route`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// Where.
    pub route: Route,
    /// What.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many requests it hits.
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

type Shared = Arc<Mutex<state::State>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, state::State> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running sandbox.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Shared,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts serving on `bind` (use port 0 for any free port). Must run inside tokio.
    pub async fn start(config: SandboxConfig, bind: SocketAddr) -> std::io::Result<Self> {
        std::fs::create_dir_all(&config.files_dir)?;
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let shared: Shared = Arc::new(Mutex::new(state::State::new(config, base)));
        let router = api::router(Arc::clone(&shared));
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                rx.await.ok();
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "sandbox server stopped");
            }
        });
        tracing::info!(%addr, "sandbox listening");
        Ok(Self {
            addr,
            shared,
            shutdown: Some(tx),
            server: Some(server),
        })
    }

    /// `http://127.0.0.1:PORT`: also the web base of task links.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The full auth endpoint.
    pub fn auth_url(&self) -> String {
        format!("{}/accounts/api/v4/auth", self.base_url())
    }

    /// The `api_url` the sandbox hands out.
    pub fn api_url(&self) -> String {
        format!("{}/api/v4/", self.base_url())
    }

    /// The `files_url` the sandbox hands out.
    pub fn files_url(&self) -> String {
        format!("{}/files/", self.base_url())
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Makes the next matching requests fail.
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared).faults.push(fault);
    }

    /// Expires every token issued so far.
    pub fn expire_tokens(&self) {
        lock(&self.shared).expire_tokens();
    }

    /// The tasks, oldest first.
    pub fn tasks(&self) -> Vec<TaskSnapshot> {
        lock(&self.shared).snapshot()
    }

    /// The customers' tasks, by id.
    pub fn customers(&self) -> Vec<CustomerTask> {
        lock(&self.shared).customers.clone()
    }

    /// Adds a customer's task now; its id.
    pub fn add_customer(&self, customer: &SandboxCustomer) -> u64 {
        let mut state = lock(&self.shared);
        let id = state::FIRST_CUSTOMER_ID + state.customers.len() as u64;
        let now = state::now_ms();
        state.customers.push(CustomerTask {
            id,
            subject: customer.subject.clone(),
            phone: customer.phone.clone(),
            step: customer.step,
            closed: customer.closed,
            responsible: customer.responsible.clone(),
            created_ms: now,
            modified_ms: now,
            comments: Vec::new(),
        });
        id
    }

    /// Changes a customer's task as a person would (its modified date moves); false when
    /// there is no such task.
    pub fn change_customer(&self, id: u64, change: impl FnOnce(&mut CustomerTask)) -> bool {
        let mut state = lock(&self.shared);
        let Some(task) = state.customers.iter_mut().find(|t| t.id == id) else {
            return false;
        };
        change(task);
        task.modified_ms = state::now_ms();
        true
    }

    /// Every access token issued so far (to prove none was written anywhere).
    pub fn issued_tokens(&self) -> Vec<String> {
        lock(&self.shared).token_order.clone()
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared).requests.clone()
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        self.stop();
        if let Some(server) = self.server.take() {
            server.await.ok();
        }
    }

    fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}
