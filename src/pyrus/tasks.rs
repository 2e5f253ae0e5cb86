//! One task: its comments read, and a comment added (`text` and field updates by id; a
//! choice by `choice_id`).

use serde::Deserialize;

use super::{PyrusClient, PyrusError, read_json};

/// A field set by a comment.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldUpdate {
    /// The field's id in the form.
    pub id: u64,
    /// Its value: text, a number, or `{"choice_id": N}`.
    pub value: serde_json::Value,
}

#[derive(Deserialize)]
struct CommentDto {
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct TaskDto {
    #[serde(default)]
    comments: Vec<CommentDto>,
}

#[derive(Deserialize)]
struct TaskReply {
    task: TaskDto,
}

impl PyrusClient {
    /// `GET tasks/{id}`: the texts of its comments, oldest first.
    pub async fn task_comments(&self, task_id: u64) -> Result<Vec<String>, PyrusError> {
        let reply = self
            .send_authed(|s| {
                Ok(self
                    .http
                    .get(format!("{}tasks/{task_id}", s.endpoints.api_url))
                    .timeout(self.config.request_timeout))
            })
            .await?;
        let dto: TaskReply = read_json(&reply)?;
        Ok(dto
            .task
            .comments
            .into_iter()
            .filter_map(|c| c.text)
            .collect())
    }

    /// `POST tasks/{id}/comments`: a comment with `text` and `updates`.
    pub async fn add_comment(
        &self,
        task_id: u64,
        text: &str,
        updates: &[FieldUpdate],
    ) -> Result<(), PyrusError> {
        let updates: Vec<serde_json::Value> = updates
            .iter()
            .map(|u| serde_json::json!({ "id": u.id, "value": u.value }))
            .collect();
        let body = serde_json::json!({ "text": text, "field_updates": updates });
        self.send_authed(|s| {
            Ok(self
                .http
                .post(format!("{}tasks/{task_id}/comments", s.endpoints.api_url))
                .json(&body)
                .timeout(self.config.request_timeout))
        })
        .await?;
        Ok(())
    }
}
