//! The sandbox follows the documented API strictly: auth, Bearer checks, paths, multipart,
//! error codes and rate-limit headers — checked with raw HTTP, not through our client.

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use pyrus_phone::sandbox::{DEMO_ACCOUNT_ID, DEMO_LOGIN, DEMO_SECURITY_KEY};

use crate::support::start_sandbox;

async fn error_code(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    (
        status,
        body["error_code"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_tokens_paths_and_error_codes() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start_sandbox(dir.path().join("files")).await;
    let http = reqwest::Client::new();
    let base = sandbox.base_url();

    // Auth: wrong key, malformed body, then success with api_url/files_url on their own paths.
    let r = http
        .post(sandbox.auth_url())
        .json(&json!({"login": DEMO_LOGIN, "security_key": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, (401, "invalid_credentials".into()));
    let r = http
        .post(sandbox.auth_url())
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, (400, "invalid_json".into()));
    let r = http.post(sandbox.auth_url()).send().await.unwrap();
    assert_eq!(error_code(r).await, (400, "empty_body".into()));
    let auth: Value = http
        .post(sandbox.auth_url())
        .json(&json!({"login": DEMO_LOGIN, "security_key": DEMO_SECURITY_KEY}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = auth["access_token"].as_str().unwrap().to_owned();
    let api = auth["api_url"].as_str().unwrap().to_owned();
    let files = auth["files_url"].as_str().unwrap().to_owned();
    assert_eq!(api, format!("{base}/api/v4/"));
    assert_eq!(files, format!("{base}/files/"));

    // A client that hard-codes /v4/ on the auth host finds nothing.
    let r = http
        .post(format!("{base}/v4/integrations/call"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(r.json::<Value>().await.unwrap()["Message"].is_string());

    // Bearer checks.
    let call = json!({"account_id": DEMO_ACCOUNT_ID, "from_number": "+79774221338", "to_number": "+74953009080"});
    let r = http
        .post(format!("{api}integrations/call"))
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, (401, "token_not_specified".into()));
    let r = http
        .post(format!("{api}integrations/call"))
        .bearer_auth("forged")
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, (401, "invalid_token".into()));

    // Registration, with rate-limit headers.
    let r = http
        .post(format!("{api}integrations/call"))
        .bearer_auth(&token)
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["x-ratelimit-limit"], "5000");
    assert_eq!(
        r.headers()["x-ratelimit-remaining"],
        "4997",
        "three API requests so far"
    );
    assert!(r.headers().contains_key("x-ratelimit-reset"));
    let reg: Value = r.json().await.unwrap();
    assert_eq!(
        reg,
        json!({"task_id": 1, "is_new_task": true}),
        "no responsible_person when none matched"
    );

    let mut bad = call.clone();
    bad["account_id"] = json!("other");
    let r = http
        .post(format!("{api}integrations/call"))
        .bearer_auth(&token)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, (400, "unrecognized_account_id".into()));
    let mut bad = call.clone();
    bad.as_object_mut().unwrap().remove("to_number");
    let r = http
        .post(format!("{api}integrations/call"))
        .bearer_auth(&token)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r).await,
        (400, "required_parameter_missing".into())
    );
    let mut bad = call.clone();
    bad["external_id"] = json!("x".repeat(301));
    let r = http
        .post(format!("{api}integrations/call"))
        .bearer_auth(&token)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r).await,
        (400, "text_field_value_limit_exceeded".into())
    );
    let mut bad = call.clone();
    bad["mappings"] = json!([{"code": "Subject", "value": "Not an option"}]);
    let r = http
        .post(format!("{api}integrations/call"))
        .bearer_auth(&token)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, (400, "invalid_value_format".into()));

    // Upload: exactly one file, not empty, multipart only.
    let upload = format!("{files}v4/files/upload");
    let form = Form::new().part("file", Part::bytes(b"RIFFdata".to_vec()).file_name("a.wav"));
    let up: Value = http
        .post(&upload)
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let guid = up["guid"].as_str().unwrap().to_owned();
    assert_eq!(up["md5_hash"].as_str().unwrap().len(), 32);
    let form = Form::new().part("file", Part::bytes(Vec::new()).file_name("a.wav"));
    let r = http
        .post(&upload)
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, (400, "empty_file".into()));
    let form = Form::new()
        .part("a", Part::bytes(b"1".to_vec()).file_name("a.wav"))
        .part("b", Part::bytes(b"2".to_vec()).file_name("b.wav"));
    let r = http
        .post(&upload)
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, (400, "bad_multipart_content".into()));
    let form = Form::new().text("note", "no file here");
    let r = http
        .post(&upload)
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, (400, "no_file_in_request".into()));
    let r = http
        .post(&upload)
        .bearer_auth(&token)
        .body("raw")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, (400, "bad_multipart_content".into()));

    // Attach: identifier rule, unknown ids, then success.
    let attach = format!("{api}integrations/attachcallrecord");
    let r = http
        .post(&attach)
        .bearer_auth(&token)
        .json(&json!({"account_id": DEMO_ACCOUNT_ID, "record_file": guid}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r).await,
        (400, "required_parameters_not_specified".into())
    );
    let r = http
        .post(&attach)
        .bearer_auth(&token)
        .json(&json!({"record_file": guid, "from_number": "+79774221338"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r).await,
        (400, "required_parameters_not_specified".into()),
        "one number is not a pair"
    );
    let r = http
        .post(&attach)
        .bearer_auth(&token)
        .json(&json!({"record_file": guid, "task_id": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r).await,
        (400, "unrecognized_task_id".into()),
        "task_id 0 is no task"
    );
    let r = http
        .post(&attach)
        .bearer_auth(&token)
        .json(&json!({"record_file": guid, "external_id": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, (400, "unrecognized_call_id".into()));
    let r = http
        .post(&attach)
        .bearer_auth(&token)
        .json(&json!({"record_file": "nope", "task_id": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r).await,
        (400, "unrecognized_attachment_id".into())
    );
    let r = http
        .post(&attach)
        .bearer_auth(&token)
        .json(&json!({"task_id": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r).await,
        (400, "required_parameter_missing".into())
    );
    let r = http
        .post(&attach)
        .bearer_auth(&token)
        .json(&json!({"record_file": guid, "from_number": "+79774221338", "to_number": "+74953009080"}))
        .send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({}));

    // Expired tokens answer expired_token.
    sandbox.expire_tokens();
    let r = http
        .post(format!("{api}integrations/call"))
        .bearer_auth(&token)
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, (401, "expired_token".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuing_past_the_token_limit_revokes_the_oldest() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start_sandbox(dir.path().join("files")).await;
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for _ in 0..6 {
        let auth: Value = http
            .post(sandbox.auth_url())
            .json(&json!({"login": DEMO_LOGIN, "security_key": DEMO_SECURITY_KEY}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.push(auth["access_token"].as_str().unwrap().to_owned());
    }
    let call = json!({"account_id": DEMO_ACCOUNT_ID, "from_number": "+79774221338", "to_number": "+74953009080"});
    let api = sandbox.api_url();
    let r = http
        .post(format!("{api}integrations/call"))
        .bearer_auth(&tokens[0])
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, (401, "revoked_token".into()));
    let r = http
        .post(format!("{api}integrations/call"))
        .bearer_auth(&tokens[5])
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}
