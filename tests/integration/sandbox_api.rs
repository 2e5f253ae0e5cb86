//! The sandbox follows the documented API strictly: auth, Bearer checks, paths, multipart,
//! error codes and rate-limit headers — checked with raw HTTP, not through our client.
//!
//! Each request is a row of a table (what it is, where it goes, with which token and body,
//! and what must come back), sent in order by one runner: the rate-limit count and the ids
//! a row refers to come from the rows before it.

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use pyrus_phone::sandbox::{DEMO_ACCOUNT_ID, DEMO_LOGIN, DEMO_SECURITY_KEY, Sandbox};

use crate::support::start_sandbox;

/// Where a request goes.
enum To {
    /// The auth URL.
    Auth,
    /// A path under the `api_url` the auth reply handed out.
    Api(&'static str),
    /// The upload under the `files_url` the auth reply handed out.
    Upload,
    /// A path on the auth host itself.
    AuthHost(&'static str),
}

/// Which token a request carries.
#[derive(Clone, Copy)]
enum Bearer {
    None,
    Forged,
    /// The one the last login issued.
    Issued,
}

/// A part of a multipart body: a file (field, content, file name) or a text field.
enum FormPart {
    File(&'static str, &'static [u8], &'static str),
    Text(&'static str, &'static str),
}

/// A request's body.
enum Body {
    Nothing,
    /// JSON; a string value [`GUID`] stands for the last uploaded file's guid.
    Json(Value),
    Text(&'static str),
    Multipart(&'static [FormPart]),
}

/// What must come back.
enum Expect {
    /// An error reply: the status and the API's `error_code`.
    Error(u16, &'static str),
    /// A success: the status and the whole JSON body.
    Json(u16, Value),
    /// The status, and a text under this field.
    Text(u16, &'static str),
}

/// One request and what must come back.
struct Case {
    what: &'static str,
    to: To,
    bearer: Bearer,
    body: Body,
    expect: Expect,
}

/// Stands for the last uploaded file's guid in a [`Body::Json`].
const GUID: &str = "<guid of the uploaded file>";

/// A reply, its body read as JSON.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

/// A client of one sandbox, with what its last login and upload handed out.
struct Api {
    http: reqwest::Client,
    auth_url: String,
    base: String,
    token: String,
    api_url: String,
    files_url: String,
    guid: String,
}

impl Api {
    fn new(sandbox: &Sandbox) -> Self {
        Self {
            http: reqwest::Client::new(),
            auth_url: sandbox.auth_url(),
            base: sandbox.base_url(),
            token: String::new(),
            api_url: String::new(),
            files_url: String::new(),
            guid: String::new(),
        }
    }

    /// Logs in with the demo credentials; the token and the URLs are used from then on.
    async fn login(&mut self) -> Reply {
        let reply = self
            .check(&Case {
                what: "a login with the right key",
                to: To::Auth,
                bearer: Bearer::None,
                body: Body::Json(json!({"login": DEMO_LOGIN, "security_key": DEMO_SECURITY_KEY})),
                expect: Expect::Text(200, "access_token"),
            })
            .await;
        let text = |field: &str| reply.body[field].as_str().unwrap().to_owned();
        self.token = text("access_token");
        self.api_url = text("api_url");
        self.files_url = text("files_url");
        reply
    }

    /// Uploads a small recording; its guid is used from then on.
    async fn upload(&mut self) -> Reply {
        let reply = self
            .check(&Case {
                what: "an upload of one recording",
                to: To::Upload,
                bearer: Bearer::Issued,
                body: Body::Multipart(&[FormPart::File("file", b"RIFFdata", "a.wav")]),
                expect: Expect::Text(200, "guid"),
            })
            .await;
        self.guid = reply.body["guid"].as_str().unwrap().to_owned();
        reply
    }

    /// `body` with every [`GUID`] replaced by the uploaded file's guid.
    fn fill(&self, body: &Value) -> Value {
        match body {
            Value::String(s) if s == GUID => Value::String(self.guid.clone()),
            Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), self.fill(v))).collect(),
            other => other.clone(),
        }
    }

    async fn send(&self, case: &Case) -> Reply {
        let url = match case.to {
            To::Auth => self.auth_url.clone(),
            To::Api(path) => format!("{}{path}", self.api_url),
            To::Upload => format!("{}v4/files/upload", self.files_url),
            To::AuthHost(path) => format!("{}{path}", self.base),
        };
        let mut request = self.http.post(url);
        request = match case.bearer {
            Bearer::None => request,
            Bearer::Forged => request.bearer_auth("forged"),
            Bearer::Issued => request.bearer_auth(&self.token),
        };
        request = match &case.body {
            Body::Nothing => request,
            Body::Json(body) => request.json(&self.fill(body)),
            Body::Text(text) => request.body(*text),
            Body::Multipart(parts) => {
                request.multipart(parts.iter().fold(Form::new(), |form, part| match part {
                    FormPart::File(field, bytes, name) => {
                        form.part(*field, Part::bytes(bytes.to_vec()).file_name(*name))
                    }
                    FormPart::Text(field, text) => form.text(*field, *text),
                }))
            }
        };
        let reply = request.send().await.unwrap();
        Reply {
            status: reply.status().as_u16(),
            headers: reply.headers().clone(),
            body: reply.json().await.unwrap(),
        }
    }

    /// Sends `case` and checks what came back; the reply, for what else a test checks.
    async fn check(&self, case: &Case) -> Reply {
        let reply = self.send(case).await;
        let what = case.what;
        match &case.expect {
            Expect::Error(status, code) => assert_eq!(
                (
                    reply.status,
                    reply.body["error_code"].as_str().unwrap_or_default()
                ),
                (*status, *code),
                "{what}: {reply:?}"
            ),
            Expect::Json(status, body) => {
                assert_eq!(reply.status, *status, "{what}: {reply:?}");
                assert_eq!(reply.body, *body, "{what}");
            }
            Expect::Text(status, field) => {
                assert_eq!(reply.status, *status, "{what}: {reply:?}");
                assert!(reply.body[*field].is_string(), "{what}: {reply:?}");
            }
        }
        reply
    }

    /// Checks every case, in order.
    async fn check_all(&self, cases: &[Case]) {
        for case in cases {
            self.check(case).await;
        }
    }
}

/// A registration of the demo call.
fn call() -> Value {
    json!({"account_id": DEMO_ACCOUNT_ID, "from_number": "+79774221338", "to_number": "+74953009080"})
}

/// The demo call with `field` set to `value`.
fn call_with(field: &str, value: Value) -> Value {
    let mut call = call();
    call[field] = value;
    call
}

/// The demo call without `field`.
fn call_without(field: &str) -> Value {
    let mut call = call();
    call.as_object_mut().unwrap().remove(field);
    call
}

/// A registration with `bearer` and `body`.
fn register(what: &'static str, bearer: Bearer, body: Value, expect: Expect) -> Case {
    Case {
        what,
        to: To::Api("integrations/call"),
        bearer,
        body: Body::Json(body),
        expect,
    }
}

/// An attach of a recording, with the issued token.
fn attach(what: &'static str, body: Value, expect: Expect) -> Case {
    Case {
        what,
        to: To::Api("integrations/attachcallrecord"),
        bearer: Bearer::Issued,
        body: Body::Json(body),
        expect,
    }
}

/// An upload, with the issued token.
fn upload(what: &'static str, body: Body, expect: Expect) -> Case {
    Case {
        what,
        to: To::Upload,
        bearer: Bearer::Issued,
        body,
        expect,
    }
}

/// A login attempt.
fn log_in(what: &'static str, body: Body, expect: Expect) -> Case {
    Case {
        what,
        to: To::Auth,
        bearer: Bearer::None,
        body,
        expect,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_tokens_paths_and_error_codes() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start_sandbox(dir.path().join("files")).await;
    let mut api = Api::new(&sandbox);
    check_auth(&mut api, &sandbox.base_url()).await;
    check_registration(&mut api).await;
    check_upload(&mut api).await;
    check_attach(&mut api).await;

    // Expired tokens answer expired_token.
    sandbox.expire_tokens();
    api.check(&register(
        "an expired token",
        Bearer::Issued,
        call(),
        Expect::Error(401, "expired_token"),
    ))
    .await;
}

/// Auth: wrong key, malformed body, then success with api_url/files_url on their own paths;
/// API requests without a token, or with one not issued.
async fn check_auth(api: &mut Api, base: &str) {
    api.check_all(&[
        log_in(
            "a wrong key",
            Body::Json(json!({"login": DEMO_LOGIN, "security_key": "nope"})),
            Expect::Error(401, "invalid_credentials"),
        ),
        log_in(
            "a body that is not JSON",
            Body::Text("{not json"),
            Expect::Error(400, "invalid_json"),
        ),
        log_in("no body", Body::Nothing, Expect::Error(400, "empty_body")),
    ])
    .await;
    api.login().await;
    assert_eq!(api.api_url, format!("{base}/api/v4/"));
    assert_eq!(api.files_url, format!("{base}/files/"));

    api.check_all(&[
        Case {
            what: "a client that hard-codes /v4/ on the auth host finds nothing",
            to: To::AuthHost("/v4/integrations/call"),
            bearer: Bearer::Issued,
            body: Body::Json(json!({})),
            expect: Expect::Text(404, "Message"),
        },
        register(
            "no token",
            Bearer::None,
            call(),
            Expect::Error(401, "token_not_specified"),
        ),
        register(
            "a forged token",
            Bearer::Forged,
            call(),
            Expect::Error(401, "invalid_token"),
        ),
    ])
    .await;
}

/// Registration, with rate-limit headers, and what it refuses.
async fn check_registration(api: &mut Api) {
    let registered = api
        .check(&register(
            "a registration (no responsible_person when none matched)",
            Bearer::Issued,
            call(),
            Expect::Json(200, json!({"task_id": 1, "is_new_task": true})),
        ))
        .await;
    assert_eq!(registered.headers["x-ratelimit-limit"], "5000");
    assert_eq!(
        registered.headers["x-ratelimit-remaining"], "4997",
        "three API requests so far"
    );
    assert!(registered.headers.contains_key("x-ratelimit-reset"));

    api.check_all(&[
        register(
            "another account",
            Bearer::Issued,
            call_with("account_id", json!("other")),
            Expect::Error(400, "unrecognized_account_id"),
        ),
        register(
            "no to_number",
            Bearer::Issued,
            call_without("to_number"),
            Expect::Error(400, "required_parameter_missing"),
        ),
        register(
            "an external_id over 300 characters",
            Bearer::Issued,
            call_with("external_id", json!("x".repeat(301))),
            Expect::Error(400, "text_field_value_limit_exceeded"),
        ),
        register(
            "a value that is no option of the field",
            Bearer::Issued,
            call_with(
                "mappings",
                json!([{"code": "Subject", "value": "Not an option"}]),
            ),
            Expect::Error(400, "invalid_value_format"),
        ),
    ])
    .await;
}

/// Upload: exactly one file, not empty, multipart only.
async fn check_upload(api: &mut Api) {
    let uploaded = api.upload().await;
    assert_eq!(uploaded.body["md5_hash"].as_str().unwrap().len(), 32);
    api.check_all(&[
        upload(
            "an empty file",
            Body::Multipart(&[FormPart::File("file", b"", "a.wav")]),
            Expect::Error(400, "empty_file"),
        ),
        upload(
            "two files",
            Body::Multipart(&[
                FormPart::File("a", b"1", "a.wav"),
                FormPart::File("b", b"2", "b.wav"),
            ]),
            Expect::Error(400, "bad_multipart_content"),
        ),
        upload(
            "no file",
            Body::Multipart(&[FormPart::Text("note", "no file here")]),
            Expect::Error(400, "no_file_in_request"),
        ),
        upload(
            "a body that is not multipart",
            Body::Text("raw"),
            Expect::Error(400, "bad_multipart_content"),
        ),
    ])
    .await;
}

/// Attach: identifier rule, unknown ids, then success.
async fn check_attach(api: &mut Api) {
    api.check_all(&[
        attach(
            "no call named",
            json!({"account_id": DEMO_ACCOUNT_ID, "record_file": GUID}),
            Expect::Error(400, "required_parameters_not_specified"),
        ),
        attach(
            "one number is not a pair",
            json!({"record_file": GUID, "from_number": "+79774221338"}),
            Expect::Error(400, "required_parameters_not_specified"),
        ),
        attach(
            "task_id 0 is no task",
            json!({"record_file": GUID, "task_id": 0}),
            Expect::Error(400, "unrecognized_task_id"),
        ),
        attach(
            "an unknown external_id",
            json!({"record_file": GUID, "external_id": "nope"}),
            Expect::Error(400, "unrecognized_call_id"),
        ),
        attach(
            "an unknown file",
            json!({"record_file": "nope", "task_id": 1}),
            Expect::Error(400, "unrecognized_attachment_id"),
        ),
        attach(
            "no file",
            json!({"task_id": 1}),
            Expect::Error(400, "required_parameter_missing"),
        ),
        attach(
            "the call by its number pair",
            json!({"record_file": GUID, "from_number": "+79774221338", "to_number": "+74953009080"}),
            Expect::Json(200, json!({})),
        ),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuing_past_the_token_limit_revokes_the_oldest() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start_sandbox(dir.path().join("files")).await;
    let mut logins = Vec::new();
    for _ in 0..6 {
        let mut api = Api::new(&sandbox);
        api.login().await;
        logins.push(api);
    }
    logins[0]
        .check(&register(
            "the oldest of six tokens",
            Bearer::Issued,
            call(),
            Expect::Error(401, "revoked_token"),
        ))
        .await;
    logins[5]
        .check(&register(
            "the newest of six tokens",
            Bearer::Issued,
            call(),
            Expect::Json(200, json!({"task_id": 1, "is_new_task": true})),
        ))
        .await;
}
