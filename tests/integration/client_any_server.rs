//! The client works against any server that follows the documented API: it uses the hosts
//! and paths the auth reply hands out, never its own idea of them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use pyrus_phone::domain::{AttachTarget, CallRequest, Mapping, Secret};
use pyrus_phone::pyrus::{
    ClientConfig, Credentials, ErrorClass, PyrusClient, PyrusError, UploadSource,
};
use pyrus_phone::sandbox::{DEMO_ACCOUNT_ID, DEMO_LOGIN, DEMO_SECURITY_KEY, FaultKind, Route};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::support::{fault, start_sandbox, write_wav};

type Log = Arc<Mutex<Vec<(String, Option<String>)>>>;

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    format!("127.0.0.1:{}", addr.port())
}

fn record(log: &Log, path: &str, headers: &HeaderMap) {
    let auth = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    log.lock().unwrap().push((path.to_owned(), auth));
}

/// A server that records whatever reaches it (nothing should): its log and address.
async fn thief() -> (Log, String) {
    let stolen: Log = Arc::default();
    let log = Arc::clone(&stolen);
    let router = Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let log = Arc::clone(&log);
        async move {
            record(&log, &String::from_utf8_lossy(&body), &headers);
            StatusCode::OK
        }
    });
    (stolen, serve(router).await)
}

fn credentials(login: &str, key: &str) -> Credentials {
    Credentials {
        login: login.into(),
        security_key: Secret::new(key),
        person_id: None,
    }
}

fn client(auth_url: &str) -> PyrusClient {
    client_with(ClientConfig::new(auth_url))
}

fn client_with(config: ClientConfig) -> PyrusClient {
    PyrusClient::new(config, credentials(DEMO_LOGIN, DEMO_SECURITY_KEY)).unwrap()
}

/// The demo call, with `external_id`.
fn call_request(external_id: &str) -> CallRequest {
    CallRequest::parse(
        "+79774221338",
        "+74953009080",
        None,
        Some(external_id),
        vec![],
    )
    .unwrap()
}

fn progress() -> pyrus_phone::pyrus::Progress {
    Arc::new(|_, _| {})
}

/// The files host of `uses_the_api_and_files_hosts_from_the_auth_reply`: its own server,
/// its own path; requests go to `log`.
async fn files_host(log: &Log) -> String {
    let l = Arc::clone(log);
    serve(Router::new().route(
        "/blob/store/v4/files/upload",
        post(move |headers: HeaderMap, body: Bytes| {
            let l = Arc::clone(&l);
            async move {
                record(&l, "files:/blob/store/v4/files/upload", &headers);
                assert!(String::from_utf8_lossy(&body).contains("filename=\"call.wav\""));
                axum::Json(json!({"guid": "g-1", "md5_hash": "ABC"}))
            }
        }),
    ))
    .await
}

/// The API host of `uses_the_api_and_files_hosts_from_the_auth_reply`: another server,
/// deep paths; requests go to `log`.
async fn api_host(log: &Log) -> String {
    let l = Arc::clone(log);
    let l2 = Arc::clone(log);
    serve(
        Router::new()
            .route(
                "/deep/api/integrations/call",
                post(move |headers: HeaderMap, body: Bytes| {
                    let l = Arc::clone(&l);
                    async move {
                        record(&l, "api:/deep/api/integrations/call", &headers);
                        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                        assert_eq!(v["account_id"], "acc");
                        assert_eq!(v["external_id"], "x-1");
                        axum::Json(json!({"task_id": 77}))
                    }
                }),
            )
            .route(
                "/deep/api/integrations/attachcallrecord",
                post(move |headers: HeaderMap, body: Bytes| {
                    let l = Arc::clone(&l2);
                    async move {
                        record(&l, "api:/deep/api/integrations/attachcallrecord", &headers);
                        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                        assert_eq!(v, json!({"account_id": "acc", "record_file": "g-1", "task_id": 77, "external_id": "x-1"}));
                        StatusCode::OK
                    }
                }),
            ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uses_the_api_and_files_hosts_from_the_auth_reply() {
    let log: Log = Arc::default();
    let files = files_host(&log).await;
    let api = api_host(&log).await;
    let api_port = api.rsplit(':').next().unwrap().to_owned();
    let l = Arc::clone(&log);
    let auth = serve(Router::new().route(
        "/sso/token",
        post(move |body: Bytes| {
            let l = Arc::clone(&l);
            let api_port = api_port.clone();
            let files = files.clone();
            async move {
                l.lock().unwrap().push(("auth:/sso/token".into(), None));
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(v["login"], DEMO_LOGIN);
                assert_eq!(v["security_key"], DEMO_SECURITY_KEY);
                axum::Json(json!({
                    "access_token": "tok-123",
                    "api_url": format!("http://localhost:{api_port}/deep/api"),
                    "files_url": format!("http://{files}/blob/store/"),
                }))
            }
        }),
    ))
    .await;

    let client = client(&format!("http://{auth}/sso/token"));
    let mut call = call_request("x-1");
    call.mappings.clear();
    let reg = client.register_call("acc", &call).await.unwrap();
    assert_eq!(reg.task_id, 77);
    assert!(!reg.is_new_task);
    assert!(reg.responsible.is_none());
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("call.wav");
    write_wav(&wav, 100);
    let file = client
        .upload_file(
            &UploadSource::open(&wav).unwrap(),
            progress(),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(file.guid, "g-1");
    let target = AttachTarget::Task {
        task_id: 77,
        external_id: call.external_id.clone(),
    };
    client
        .attach_call_record("acc", &target, &file.guid, &[])
        .await
        .unwrap();

    let log = log.lock().unwrap().clone();
    let paths: Vec<&str> = log.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "auth:/sso/token",
            "api:/deep/api/integrations/call",
            "files:/blob/store/v4/files/upload",
            "api:/deep/api/integrations/attachcallrecord",
        ]
    );
    assert!(
        log[1..]
            .iter()
            .all(|(_, a)| a.as_deref() == Some("Bearer tok-123"))
    );
    assert_eq!(client.login_count(), 1, "one token is reused");
    assert_eq!(
        client.task_url(77),
        format!(
            "http://localhost:{}/deep/t#id77",
            api.rsplit(':').next().unwrap()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_files_url_uploads_go_to_the_api_host() {
    let log: Log = Arc::default();
    let l = Arc::clone(&log);
    let api = serve(Router::new().route(
        "/v9/files/upload",
        post(move |headers: HeaderMap, body: Bytes| {
            let l = Arc::clone(&l);
            async move {
                record(&l, "/v9/files/upload", &headers);
                assert!(String::from_utf8_lossy(&body).contains("filename=\"a.mp3\""));
                axum::Json(json!({"guid": "g-2"}))
            }
        }),
    ))
    .await;
    let auth = serve(Router::new().route(
        "/auth",
        post(move || {
            let api = api.clone();
            async move {
                axum::Json(json!({"access_token": "t", "api_url": format!("http://{api}/v9/")}))
            }
        }),
    ))
    .await;
    let client = client(&format!("http://{auth}/auth"));
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("a.mp3");
    write_wav(&wav, 10);
    let file = client
        .upload_file(
            &UploadSource::open(&wav).unwrap(),
            progress(),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(file.guid, "g-2");
    assert_eq!(log.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_a_remote_host_is_refused() {
    let err = PyrusClient::new(
        ClientConfig::new("http://pyrus.example.org/api/v4/auth"),
        credentials("a", "k"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("use https"), "{err}");
    // …and so is an api_url the auth reply hands out over plain http to a remote host.
    let auth = serve(Router::new().route(
        "/auth",
        post(|| async {
            axum::Json(json!({"access_token": "t", "api_url": "http://api.example.org/v4/"}))
        }),
    ))
    .await;
    let err = client(&format!("http://{auth}/auth"))
        .login()
        .await
        .unwrap_err();
    assert!(matches!(err, PyrusError::BadUrl { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_checks_reach_the_caller_as_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start_sandbox(dir.path().join("files")).await;
    let client = client(&sandbox.auth_url());
    let reg = client
        .register_call(DEMO_ACCOUNT_ID, &call_request("s-1"))
        .await
        .unwrap();

    // A value over 300 characters, slipped past the local check.
    let mut long = call_request("s-2");
    long.mappings.push(Mapping {
        code: "Note".into(),
        value: "x".repeat(301),
    });
    let err = client
        .register_call(DEMO_ACCOUNT_ID, &long)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "text_field_value_limit_exceeded");
    assert_eq!(err.class(), ErrorClass::Permanent);

    // An empty file and a file that is not audio.
    let empty = dir.path().join("empty.wav");
    std::fs::File::create(&empty).unwrap();
    let err = client
        .upload_file(
            &UploadSource::open(&empty).unwrap(),
            progress(),
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "empty_file");
    let text = dir.path().join("notes.txt");
    write_wav(&text, 10);
    let guid = client
        .upload_file(
            &UploadSource::open(&text).unwrap(),
            progress(),
            &CancellationToken::new(),
        )
        .await
        .unwrap()
        .guid;
    let target = AttachTarget::Task {
        task_id: reg.task_id,
        external_id: None,
    };
    let err = client
        .attach_call_record(DEMO_ACCOUNT_ID, &target, &guid, &[])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unsupported_record_file_format");
    let err = client
        .attach_call_record(DEMO_ACCOUNT_ID, &target, "no-such-guid", &[])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unrecognized_attachment_id");

    // A slow reply past the request timeout is a retryable timeout.
    sandbox.inject(fault(Route::Call, FaultKind::Slow { delay_ms: 1500 }, 1));
    let mut config = ClientConfig::new(sandbox.auth_url());
    config.request_timeout = Duration::from_millis(300);
    let impatient = client_with(config);
    impatient.login().await.unwrap();
    let err = impatient
        .register_call(DEMO_ACCOUNT_ID, &call_request("s-3"))
        .await
        .unwrap_err();
    assert!(matches!(err, PyrusError::Timeout), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Retryable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_can_be_cancelled_and_reports_progress() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start_sandbox(dir.path().join("files")).await;
    sandbox.inject(fault(Route::Upload, FaultKind::Slow { delay_ms: 3000 }, 1));
    let client = Arc::new(client(&sandbox.auth_url()));
    let wav = dir.path().join("big.wav");
    write_wav(&wav, 400_000);
    // The agent cancels once the whole file is sent and Pyrus is slow to answer.
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    let sent_all: pyrus_phone::pyrus::Progress = Arc::new(move |sent, total| {
        if sent == total {
            c2.cancel();
        }
    });
    let err = client
        .upload_file(&UploadSource::open(&wav).unwrap(), sent_all, &cancel)
        .await
        .unwrap_err();
    assert!(matches!(err, PyrusError::Cancelled), "{err:?}");

    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let file = client
        .upload_file(
            &UploadSource::open(&wav).unwrap(),
            Arc::new(move |sent, total| s.lock().unwrap().push((sent, total))),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert!(!file.guid.is_empty());
    let seen = seen.lock().unwrap();
    let size = std::fs::metadata(&wav).unwrap().len();
    assert!(seen.len() > 1, "progress in steps: {seen:?}");
    assert_eq!(seen.last(), Some(&(size, size)));
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_never_followed_and_no_credential_leaves() {
    let (stolen, thief) = thief().await;
    for status in [
        StatusCode::TEMPORARY_REDIRECT,
        StatusCode::PERMANENT_REDIRECT,
        StatusCode::FOUND,
    ] {
        let to = format!(
            "http://localhost:{}/steal",
            thief.rsplit(':').next().unwrap()
        );
        let redirecting = Router::new().fallback(move || {
            let to = to.clone();
            async move { (status, [("location", to)]) }
        });
        let auth = serve(redirecting).await;
        let err = client(&format!("http://{auth}/auth"))
            .login()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, PyrusError::Redirected { to, .. } if to.starts_with("http://localhost:")),
            "{err:?}"
        );
        assert_eq!(err.class(), ErrorClass::NeedsCredentials);
        assert_eq!(err.code(), "redirect_refused");
        assert!(err.to_string().contains("never follows redirects"), "{err}");
    }
    // The client has returned: every request it made has been answered, and none went there.
    assert!(
        stolen.lock().unwrap().is_empty(),
        "{:?}",
        stolen.lock().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_from_the_api_is_a_server_problem_that_names_the_api_host() {
    let (stolen, thief) = thief().await;
    let to = format!(
        "http://localhost:{}/steal",
        thief.rsplit(':').next().unwrap()
    );
    // The API redirects every request; the login itself is answered as Pyrus does.
    let api = serve(Router::new().fallback(move || {
        let to = to.clone();
        async move { (StatusCode::TEMPORARY_REDIRECT, [("location", to)]) }
    }))
    .await;
    let api_url = format!("http://{api}/v4/");
    let auth = serve(Router::new().route(
        "/auth",
        post(move || {
            let api_url = api_url.clone();
            async move { axum::Json(json!({ "access_token": "t-1", "api_url": api_url })) }
        }),
    ))
    .await;
    let err = client(&format!("http://{auth}/auth"))
        .register_call(DEMO_ACCOUNT_ID, &call_request("redirected-1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PyrusError::ApiRedirected { api: host, .. } if *host == format!("http://{api}")),
        "{err:?}"
    );
    assert_eq!(
        err.class(),
        ErrorClass::Retryable,
        "not a credentials problem"
    );
    assert_eq!(err.code(), "server_error");
    assert!(err.to_string().contains(&format!("http://{api}")), "{err}");
    assert!(!err.to_string().contains("auth URL"), "{err}");
    assert!(
        stolen.lock().unwrap().is_empty(),
        "{:?}",
        stolen.lock().unwrap()
    );
}
