//! What the store's tests share: a fresh outbox, a call, an attach and a registration.

use super::{AttachPayload, Store, StoredTarget};
use crate::domain::{CallRequest, Direction, Registration};

pub(super) fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("outbox.sqlite3")).unwrap();
    (dir, store)
}

pub(super) fn call(id: &str) -> CallRequest {
    let mut call =
        CallRequest::parse("+79161112200", "+74953009080", None, Some(id), Vec::new()).unwrap();
    call.direction = Direction::Incoming;
    call
}

pub(super) fn attach_to(call_id: i64) -> AttachPayload {
    AttachPayload {
        path: "/tmp/r.wav".into(),
        target: StoredTarget::Call(call_id),
        mappings: Vec::new(),
        file_guid: None,
        checked: None,
    }
}

pub(super) fn registration(task_id: u64) -> Registration {
    serde_json::from_value(serde_json::json!({"task_id": task_id, "is_new_task": true})).unwrap()
}
