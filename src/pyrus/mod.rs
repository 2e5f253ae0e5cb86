//! The Pyrus v4 API client: login, calls, uploads, recordings, forms, registers, comments.
//!
//! The only module that speaks HTTP to Pyrus. Credentials and configuration come in as
//! values; it reads no settings and no keyring. After login it uses the `api_url` and
//! `files_url` from the auth reply and never assumes a host or a `/v4/` path of its own.

mod error;
mod model;
mod register;
mod tasks;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt as _;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

pub use error::{ErrorClass, PyrusError, advice};
pub use model::{ChoiceOption, FieldInfo, FormField};
pub use register::{FormTemplate, RegisterPage, RegisterTask};
pub use tasks::FieldUpdate;

use crate::domain::{AttachTarget, CallRequest, Mapping, Registration, Secret};
use model::{
    AttachDto, AuthRequest, AuthResponse, CallDto, CallResponseDto, ErrorBody, MappingDto,
    UploadResponseDto,
};

/// The auth endpoint of cloud Pyrus.
pub const DEFAULT_AUTH_URL: &str = "https://accounts.pyrus.com/api/v4/auth";
/// The API base used only when the auth reply names none.
pub const FALLBACK_API_URL: &str = "https://api.pyrus.com/v4/";

/// Who logs in.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// Bot or user login.
    pub login: String,
    /// The security key from the Pyrus profile.
    pub security_key: Secret,
    /// Needed only when several accounts share one e-mail.
    pub person_id: Option<u64>,
}

/// Where and how patiently to talk.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The full auth endpoint.
    pub auth_url: String,
    /// Web address for task links; derived from `api_url` when `None`.
    pub web_base: Option<String>,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for a whole JSON request.
    pub request_timeout: Duration,
    /// Time allowed for a whole upload.
    pub upload_timeout: Duration,
}

impl ClientConfig {
    /// Defaults for the given auth URL: 10 s to connect, 30 s a request, 30 min an upload.
    pub fn new(auth_url: impl Into<String>) -> Self {
        Self {
            auth_url: auth_url.into(),
            web_base: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            upload_timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// The hosts the auth reply handed out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// Base for API methods, ending in `/`.
    pub api_url: String,
    /// Base of the files host, ending in `/`, when given.
    pub files_url: Option<String>,
}

impl Endpoints {
    fn upload_url(&self) -> String {
        match &self.files_url {
            Some(files) => format!("{files}v4/files/upload"),
            None => format!("{}files/upload", self.api_url),
        }
    }
}

/// A file stored on the files host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadedFile {
    /// The id to pass as `record_file`.
    pub guid: String,
    /// The MD5 Pyrus computed, when it said.
    pub md5_hash: Option<String>,
}

/// Upload progress callback: bytes sent, bytes in all.
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// A successful reply: its status and body.
struct Reply {
    status: u16,
    bytes: Vec<u8>,
}

struct Session {
    token: Secret,
    endpoints: Endpoints,
}

/// A Pyrus client for one login. Cheap to share behind an `Arc`.
pub struct PyrusClient {
    http: reqwest::Client,
    config: ClientConfig,
    credentials: Credentials,
    session: Mutex<Option<Arc<Session>>>,
    logins: AtomicU64,
    /// Requests Pyrus answered (any status) since last taken: what the rate limit counts.
    answered: AtomicU64,
    /// The web address task links go to: the setting, else derived from the `api_url` of
    /// the last login. Read without waiting (never held across I/O), so building a link
    /// never waits on a login in progress.
    web: std::sync::RwLock<String>,
}

impl std::fmt::Debug for PyrusClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PyrusClient")
            .field("auth_url", &self.config.auth_url)
            .field("login", &self.credentials.login)
            .finish_non_exhaustive()
    }
}

impl PyrusClient {
    /// Builds a client; checks the auth URL but does not connect.
    pub fn new(config: ClientConfig, credentials: Credentials) -> Result<Self, PyrusError> {
        check_named_url("the auth URL", &config.auth_url)?;
        if let Some(web) = &config.web_base {
            check_named_url("the web address (web_base)", web)?;
        }
        // Several clients may be built in one process; only the first install wins.
        rustls::crypto::ring::default_provider()
            .install_default()
            .ok();
        let web = config.web_base.as_deref().map_or_else(
            || derive_web_base(FALLBACK_API_URL),
            |w| w.trim_end_matches('/').to_owned(),
        );
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("pyrus-phone/", env!("CARGO_PKG_VERSION")))
            // Never follow a redirect: it would re-send the login and key, a token or a
            // recording somewhere no setting names.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| PyrusError::Network {
                reason: format!("cannot set up HTTPS: {}", root_cause(&e)),
            })?;
        Ok(Self {
            http,
            config,
            credentials,
            session: Mutex::new(None),
            logins: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            web: std::sync::RwLock::new(web),
        })
    }

    /// How many times this client has called `/auth`.
    pub fn login_count(&self) -> u64 {
        self.logins.load(Ordering::Relaxed)
    }

    /// The requests Pyrus answered since this was last asked (logins and form loads
    /// included; a request that never reached it is not one).
    pub fn take_answered(&self) -> u64 {
        self.answered.swap(0, Ordering::Relaxed)
    }

    /// Logs in now (replacing any token) and returns the hosts Pyrus handed out.
    pub async fn login(&self) -> Result<Endpoints, PyrusError> {
        let mut guard = self.session.lock().await;
        let session = self.authenticate().await?;
        let endpoints = session.endpoints.clone();
        *guard = Some(session);
        Ok(endpoints)
    }

    async fn authenticate(&self) -> Result<Arc<Session>, PyrusError> {
        self.logins.fetch_add(1, Ordering::Relaxed);
        let body = AuthRequest {
            login: &self.credentials.login,
            security_key: self.credentials.security_key.expose(),
            person_id: self.credentials.person_id,
        };
        let request = self
            .http
            .post(&self.config.auth_url)
            .timeout(self.config.request_timeout)
            .json(&body);
        let reply: AuthResponse = read_json(&self.send(request).await?)?;
        let api_url = with_slash(reply.api_url.as_deref().unwrap_or(FALLBACK_API_URL));
        check_named_url("the api_url Pyrus handed out", &api_url)?;
        let files_url = reply.files_url.as_deref().map(with_slash);
        if let Some(files) = &files_url {
            check_named_url("the files_url Pyrus handed out", files)?;
        }
        tracing::info!(login_count = self.login_count(), "logged in to Pyrus");
        if self.config.web_base.is_none() {
            *self
                .web
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = derive_web_base(&api_url);
        }
        Ok(Arc::new(Session {
            token: Secret::new(reply.access_token),
            endpoints: Endpoints { api_url, files_url },
        }))
    }

    async fn current_session(&self) -> Result<Arc<Session>, PyrusError> {
        let mut guard = self.session.lock().await;
        if let Some(session) = guard.as_ref() {
            return Ok(Arc::clone(session));
        }
        let session = self.authenticate().await?;
        *guard = Some(Arc::clone(&session));
        Ok(session)
    }

    /// Replaces a session that Pyrus rejected, unless another task already did.
    async fn renew_session(&self, rejected: &Arc<Session>) -> Result<Arc<Session>, PyrusError> {
        let mut guard = self.session.lock().await;
        if let Some(current) = guard.as_ref()
            && !Arc::ptr_eq(current, rejected)
        {
            return Ok(Arc::clone(current));
        }
        *guard = None;
        let session = self.authenticate().await?;
        *guard = Some(Arc::clone(&session));
        Ok(session)
    }

    /// Sends a request built for the current session; on a token 401 logs in again once
    /// and repeats the request once.
    async fn send_authed<F>(&self, build: F) -> Result<Reply, PyrusError>
    where
        F: Fn(&Session) -> Result<reqwest::RequestBuilder, PyrusError>,
    {
        let session = self.current_session().await?;
        let first = self
            .send(build(&session)?.bearer_auth(session.token.expose()))
            .await;
        let reply = match first {
            Err(e) if e.is_token_problem() => {
                tracing::info!(code = e.code(), "token refused; logging in again once");
                let session = self.renew_session(&session).await?;
                self.send(build(&session)?.bearer_auth(session.token.expose()))
                    .await
            }
            other => other,
        };
        // A redirect here is the API's, not the login's: a server problem, named by its host.
        reply.map_err(|e| match e {
            PyrusError::Redirected { status, to } => PyrusError::ApiRedirected {
                status,
                api: origin_of(&session.endpoints.api_url),
                to,
            },
            other => other,
        })
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Reply, PyrusError> {
        let response = request.send().await.map_err(|e| net_error(&e))?;
        self.answered.fetch_add(1, Ordering::Relaxed);
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| response.url().join(l).ok())
                .map_or_else(
                    || "an address it did not give".to_owned(),
                    |u| u.origin().ascii_serialization(),
                );
            tracing::warn!(status, to, "a redirect was refused");
            return Err(PyrusError::Redirected { status, to });
        }
        let retry_after = retry_after(response.headers(), status);
        let body = response.bytes().await.map_err(|e| net_error(&e))?;
        tracing::debug!(status, bytes = body.len(), "pyrus reply");
        if let Ok(err) = serde_json::from_slice::<ErrorBody>(&body)
            && let Some(code) = err.error_code
        {
            return Err(PyrusError::Api {
                status,
                code,
                message: err.error.or(err.error_message).unwrap_or_default(),
                retry_after,
            });
        }
        if !(200..300).contains(&status) {
            return Err(PyrusError::Unexpected {
                status,
                retry_after,
            });
        }
        Ok(Reply {
            status,
            bytes: body.to_vec(),
        })
    }

    /// `POST integrations/call`. The call must carry its external id.
    pub async fn register_call(
        &self,
        account_id: &str,
        call: &CallRequest,
    ) -> Result<Registration, PyrusError> {
        let body = CallDto {
            account_id,
            from_number: call.from.as_str(),
            to_number: call.to.as_str(),
            internal_number: call.internal.as_ref().map(|n| n.as_str()),
            external_id: call.external_id.as_ref().map(|id| id.as_str()),
            mappings: mapping_dtos(&call.mappings),
        };
        let reply = self
            .send_authed(|s| {
                Ok(self
                    .http
                    .post(format!("{}integrations/call", s.endpoints.api_url))
                    .timeout(self.config.request_timeout)
                    .json(&body))
            })
            .await?;
        let dto: CallResponseDto = read_json(&reply)?;
        Ok(Registration {
            task_id: dto.task_id,
            is_new_task: dto.is_new_task,
            responsible: dto.responsible_person,
        })
    }

    /// `POST …files/upload`: streams an opened recording in one multipart part named `file`
    /// (read by position, so a request made again after a new login sends it from its
    /// start). The caller opens and checks the file, off the async workers.
    pub async fn upload_file(
        &self,
        source: &UploadSource,
        progress: Progress,
        cancel: &CancellationToken,
    ) -> Result<UploadedFile, PyrusError> {
        let upload = self.send_authed(|s| {
            let part = file_part(source, Arc::clone(&progress), cancel.clone())?;
            Ok(self
                .http
                .post(s.endpoints.upload_url())
                .timeout(self.config.upload_timeout)
                .multipart(reqwest::multipart::Form::new().part("file", part)))
        });
        // The cancel is looked at first: a body cut short by it fails the request too, and
        // that failure is the cancel's, not the network's.
        let reply = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(PyrusError::Cancelled),
            reply = upload => match reply {
                Err(_) if cancel.is_cancelled() => return Err(PyrusError::Cancelled),
                reply => reply?,
            },
        };
        let dto: UploadResponseDto = read_json(&reply)?;
        Ok(UploadedFile {
            guid: dto.guid,
            md5_hash: dto.md5_hash,
        })
    }

    /// `POST integrations/attachcallrecord` with the most specific identifier known.
    pub async fn attach_call_record(
        &self,
        account_id: &str,
        target: &AttachTarget,
        record_file: &str,
        mappings: &[Mapping],
    ) -> Result<(), PyrusError> {
        let mut body = AttachDto {
            account_id,
            record_file,
            task_id: None,
            external_id: None,
            from_number: None,
            to_number: None,
            mappings: mapping_dtos(mappings),
        };
        match target {
            AttachTarget::Task {
                task_id,
                external_id,
            } => {
                body.task_id = Some(*task_id);
                body.external_id = external_id.as_ref().map(|id| id.as_str());
            }
            AttachTarget::ExternalId(id) => body.external_id = Some(id.as_str()),
            AttachTarget::Numbers { from, to } => {
                body.from_number = Some(from.as_str());
                body.to_number = Some(to.as_str());
            }
        }
        self.send_authed(|s| {
            Ok(self
                .http
                .post(format!(
                    "{}integrations/attachcallrecord",
                    s.endpoints.api_url
                ))
                .timeout(self.config.request_timeout)
                .json(&body))
        })
        .await?;
        Ok(())
    }

    /// The browser link of a task: `{web}/t#id{task_id}` (never waits).
    pub fn task_url(&self, task_id: u64) -> String {
        let web = self
            .web
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        format!("{web}/t#id{task_id}")
    }
}

/// Derives the web address from `api_url`: drop a trailing `/v4` (and `/api`) and a leading
/// `api.` from the host. `https://api.pyrus.com/v4/` becomes `https://pyrus.com`.
pub fn derive_web_base(api_url: &str) -> String {
    let mut base = api_url.trim_end_matches('/');
    base = base.strip_suffix("/v4").unwrap_or(base);
    base = base.strip_suffix("/api").unwrap_or(base);
    match base.split_once("://") {
        Some((scheme, rest)) => {
            let rest = rest.strip_prefix("api.").unwrap_or(rest);
            format!("{scheme}://{rest}")
        }
        None => base.to_owned(),
    }
}

/// Allows `https://` anywhere and `http://` only on loopback, so credentials never cross a
/// network in clear text.
pub fn check_url(url: &str) -> Result<(), PyrusError> {
    check_named_url("the address", url)
}

/// [`check_url`] for the address the settings or Pyrus call `what` (named in the error).
pub fn check_named_url(what: &'static str, url: &str) -> Result<(), PyrusError> {
    let bad = |reason| {
        // Only where it points, never a path or query that might carry more.
        let shown = reqwest::Url::parse(url)
            .ok()
            .filter(|u| u.has_host())
            .map_or_else(
                || "(not a URL)".to_owned(),
                |u| u.origin().ascii_serialization(),
            );
        PyrusError::BadUrl {
            what,
            reason,
            url: shown,
        }
    };
    let parsed = reqwest::Url::parse(url).map_err(|_| bad("it is not a valid URL"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if parsed.host_str().is_some_and(is_loopback_host) => Ok(()),
        "http" => Err(bad(
            "plain http is allowed only on this computer (loopback); use https",
        )),
        _ => Err(bad("only https URLs are supported")),
    }
}

fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn with_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    }
}

fn mapping_dtos(mappings: &[Mapping]) -> Vec<MappingDto<'_>> {
    mappings
        .iter()
        .map(|m| MappingDto {
            code: &m.code,
            value: &m.value,
        })
        .collect()
}

/// Where a URL points (scheme, host and port), never its path or query.
fn origin_of(url: &str) -> String {
    reqwest::Url::parse(url).map_or_else(
        |_| "(not a URL)".to_owned(),
        |u| u.origin().ascii_serialization(),
    )
}

/// A success reply's body, or what in it cannot be read (serde's words: which field, where).
fn read_json<T: DeserializeOwned>(body: &Reply) -> Result<T, PyrusError> {
    serde_json::from_slice(&body.bytes).map_err(|e| PyrusError::Unreadable {
        status: body.status,
        reason: e.to_string(),
    })
}

fn retry_after(headers: &HeaderMap, status: u16) -> Option<Duration> {
    let secs = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    secs("retry-after")
        .or_else(|| {
            if status == 429 {
                secs("x-ratelimit-reset")
            } else {
                None
            }
        })
        .map(Duration::from_secs)
}

fn net_error(e: &reqwest::Error) -> PyrusError {
    if e.is_timeout() {
        PyrusError::Timeout
    } else if e.is_connect() {
        PyrusError::Network {
            reason: format!("cannot connect: {}", root_cause(e)),
        }
    } else {
        PyrusError::Network {
            reason: format!("connection broken: {}", root_cause(e)),
        }
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// How much of a recording is read at once, and how many reads may wait for the socket:
/// big enough that reading costs little beside sending, small enough to keep memory flat.
const READ_CHUNK: usize = 512 * 1024;
const READ_AHEAD: usize = 2;

/// A recording to upload: the opened file, its size when checked and the name it goes by.
#[derive(Debug, Clone)]
pub struct UploadSource {
    /// The file, opened and checked by the caller.
    pub file: Arc<std::fs::File>,
    /// How many bytes are sent (a file that grows meanwhile is sent as it was).
    pub size: u64,
    /// Its path, for the name it is sent under and for messages.
    pub path: std::path::PathBuf,
}

impl UploadSource {
    /// Opens `path` as it is (blocking, unchecked): for a caller that checked it already or
    /// has nothing to check it against.
    pub fn open(path: &std::path::Path) -> std::io::Result<Self> {
        let file = std::fs::File::open(path)?;
        let size = file.metadata()?.len();
        Ok(Self {
            file: Arc::new(file),
            size,
            path: path.to_path_buf(),
        })
    }
}

/// Reads `len` bytes of `file` at `offset` (the file's own position is not used, so the
/// same file may be read again from its start).
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_read(file, buf, offset)
    }
}

/// Reads the first `total` bytes of `file` on a thread of its own, a chunk ahead of the
/// socket (no disk read on the async workers). A file that ends early is an error; one that
/// grew meanwhile is sent as it was when the upload began (the declared length).
fn read_ahead(
    file: Arc<std::fs::File>,
    total: u64,
) -> std::io::Result<tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>> {
    let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD);
    std::thread::Builder::new()
        .name("upload-reader".into())
        .spawn(move || {
            let mut offset = 0_u64;
            while offset < total {
                let left = total - offset;
                let size = usize::try_from(left).map_or(READ_CHUNK, |l| l.min(READ_CHUNK));
                let mut buf = vec![0_u8; size];
                let item = match read_at(&file, &mut buf, offset) {
                    Ok(0) => Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the file got shorter while it was being sent",
                    )),
                    Ok(n) => {
                        buf.truncate(n);
                        offset += n as u64;
                        Ok(buf)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => Err(e),
                };
                let failed = item.is_err();
                // The upload was dropped (cancelled, failed): stop reading.
                if tx.blocking_send(item).is_err() || failed {
                    return;
                }
            }
        })?;
    Ok(rx)
}

/// A file name safe in a multipart header: control characters (CR and LF would start a
/// header line of their own), quotes and backslashes become `_`; at most 200 characters.
pub fn safe_file_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_control() || c == '"' || c == '\\' {
                '_'
            } else {
                c
            }
        })
        .take(200)
        .collect();
    if !safe.chars().any(char::is_alphanumeric) {
        "recording".to_owned()
    } else {
        safe
    }
}

fn file_part(
    source: &UploadSource,
    progress: Progress,
    cancel: CancellationToken,
) -> Result<reqwest::multipart::Part, PyrusError> {
    let path = &source.path;
    let file_error = |e: &std::io::Error| PyrusError::File {
        reason: e.to_string(),
        path: path.display().to_string(),
    };
    let total = source.size;
    let name = path
        .file_name()
        .map(|n| safe_file_name(&n.to_string_lossy()))
        .unwrap_or_else(|| "recording".to_owned());
    let sent = Arc::new(AtomicU64::new(0));
    let chunks = read_ahead(Arc::clone(&source.file), total).map_err(|e| file_error(&e))?;
    let stream = futures_util::stream::unfold(chunks, |mut chunks| async move {
        chunks.recv().await.map(|chunk| (chunk, chunks))
    })
    .map(move |chunk| {
        if cancel.is_cancelled() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "upload cancelled",
            ));
        }
        if let Ok(bytes) = &chunk {
            let done = sent.fetch_add(bytes.len() as u64, Ordering::Relaxed) + bytes.len() as u64;
            progress(done, total);
        }
        chunk
    });
    let mime = crate::domain::audio_mime(&name);
    reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), total)
        .file_name(name)
        .mime_str(mime)
        .map_err(|_| PyrusError::File {
            reason: "cannot describe the file type".to_owned(),
            path: path.display().to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::{Reply, check_url, derive_web_base, read_json, safe_file_name};
    use crate::pyrus::PyrusError;
    use crate::pyrus::model::CallResponseDto;

    #[test]
    fn file_names_cannot_break_the_multipart_header() {
        assert_eq!(
            safe_file_name("call\r\nX-Injected: 1\".wav"),
            "call__X-Injected: 1_.wav"
        );
        assert_eq!(safe_file_name("запись 1.wav"), "запись 1.wav");
        assert_eq!(safe_file_name("\n"), "recording");
        assert_eq!(safe_file_name(&"a".repeat(500)).len(), 200);
    }

    #[test]
    fn web_base_comes_from_the_api_url() {
        assert_eq!(
            derive_web_base("https://api.pyrus.com/v4/"),
            "https://pyrus.com"
        );
        assert_eq!(
            derive_web_base("https://pyrus.example.org/api/v4/"),
            "https://pyrus.example.org"
        );
        assert_eq!(
            derive_web_base("http://127.0.0.1:8080/api/v4"),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn http_only_on_loopback() {
        assert!(check_url("https://accounts.pyrus.com/api/v4/auth").is_ok());
        assert!(check_url("http://127.0.0.1:9/auth").is_ok());
        assert!(check_url("http://localhost:9/auth").is_ok());
        assert!(check_url("http://[::1]:9/auth").is_ok());
        assert!(check_url("http://pyrus.example.org/auth").is_err());
        assert!(check_url("http://10.0.0.5/auth").is_err());
        assert!(check_url("ftp://x/").is_err());
        assert!(check_url("not a url").is_err());
    }

    #[test]
    fn a_reply_that_cannot_be_read_says_what_is_missing() {
        let reply = Reply {
            status: 200,
            bytes: br#"{"is_new_task": true}"#.to_vec(),
        };
        let Err(err) = read_json::<CallResponseDto>(&reply) else {
            panic!("a reply without task_id was read");
        };
        assert!(
            matches!(err, PyrusError::Unreadable { status: 200, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("missing field `task_id`"), "{err}");
        assert_eq!(err.code(), "unexpected_response");
    }
}
