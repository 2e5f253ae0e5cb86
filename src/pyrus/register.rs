//! Reading a form for the index of customers' numbers: its template (which fields hold
//! phones, what its steps are called) and its register, one bounded page at a time.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{FormField, PyrusClient, PyrusError, read_json};

/// A form's template as the index needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormTemplate {
    /// Every field, sections' fields included (flattened).
    pub fields: Vec<FormField>,
    /// Step names by number.
    pub steps: BTreeMap<u32, String>,
}

impl FormTemplate {
    /// The ids of the fields holding customers' phones: those whose code is in `codes`
    /// when any is given, else every field of type `phone`.
    pub fn phone_fields(&self, codes: &[String]) -> Vec<u64> {
        self.fields
            .iter()
            .filter(|f| {
                if codes.is_empty() {
                    f.field_type == "phone"
                } else {
                    f.code
                        .as_deref()
                        .is_some_and(|c| codes.iter().any(|want| want.eq_ignore_ascii_case(c)))
                }
            })
            .map(|f| f.id)
            .collect()
    }
}

/// One page of a form's register: tasks whose id is above `after_id` (and, for an
/// increment, changed after `modified_after`), by id, at most `item_count`, closed ones
/// included, with only `field_ids` filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterPage {
    /// The form.
    pub form_id: u64,
    /// Only tasks with a greater id.
    pub after_id: u64,
    /// Only tasks changed after this (ISO 8601 UTC).
    pub modified_after: Option<String>,
    /// At most this many tasks.
    pub item_count: u32,
    /// The fields to return (the phone fields).
    pub field_ids: Vec<u64>,
}

/// A task of the register, as the index keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterTask {
    /// Task id.
    pub id: u64,
    /// Its title (`subject`, else `text`).
    pub subject: String,
    /// The step it is on.
    pub step: Option<u32>,
    /// Closed.
    pub closed: bool,
    /// When it last changed (ISO 8601 UTC, as Pyrus wrote it).
    pub modified: String,
    /// The responsible person's name.
    pub responsible: Option<String>,
    /// The values of the fields asked for that are phones, as typed.
    pub phones: Vec<String>,
}

#[derive(Deserialize)]
struct TemplateDto {
    #[serde(default)]
    fields: Vec<FormField>,
    #[serde(default)]
    steps: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct PersonDto {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
}

#[derive(Deserialize)]
struct FieldDto {
    id: u64,
    #[serde(default)]
    value: serde_json::Value,
}

#[derive(Deserialize)]
struct TaskDto {
    id: u64,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    current_step: Option<u32>,
    #[serde(default)]
    is_closed: bool,
    #[serde(default)]
    close_date: Option<String>,
    #[serde(default)]
    last_modified_date: String,
    #[serde(default)]
    responsible: Option<PersonDto>,
    #[serde(default)]
    fields: Vec<FieldDto>,
}

#[derive(Deserialize)]
struct RegisterDto {
    #[serde(default)]
    tasks: Vec<TaskDto>,
}

/// Every field of `fields`, with the fields of sections inside them.
fn flattened(fields: Vec<FormField>) -> Vec<FormField> {
    let mut all = Vec::new();
    for mut field in fields {
        let inner = field
            .info
            .as_mut()
            .map(|i| std::mem::take(&mut i.fields))
            .unwrap_or_default();
        all.push(field);
        all.extend(flattened(inner));
    }
    all
}

impl TaskDto {
    fn into_task(self, phone_fields: &[u64]) -> RegisterTask {
        let phones = self
            .fields
            .into_iter()
            .filter(|f| phone_fields.contains(&f.id))
            .filter_map(|f| match f.value {
                serde_json::Value::String(s) if !s.trim().is_empty() => Some(s),
                _ => None,
            })
            .collect();
        let subject = self
            .subject
            .filter(|s| !s.trim().is_empty())
            .or(self.text)
            .unwrap_or_default();
        RegisterTask {
            id: self.id,
            subject: subject.lines().next().unwrap_or_default().trim().to_owned(),
            step: self.current_step,
            closed: self.is_closed || self.close_date.is_some(),
            modified: self.last_modified_date,
            responsible: self
                .responsible
                .map(|p| {
                    format!("{} {}", p.first_name, p.last_name)
                        .trim()
                        .to_owned()
                })
                .filter(|n| !n.is_empty()),
            phones,
        }
    }
}

impl PyrusClient {
    /// `GET forms/{id}`: the form's fields (sections' too), for the mapping editor.
    pub async fn form_fields(&self, form_id: u64) -> Result<Vec<FormField>, PyrusError> {
        Ok(self.form_template(form_id).await?.fields)
    }

    /// `GET forms/{id}`: the fields (sections flattened) and the steps' names.
    pub async fn form_template(&self, form_id: u64) -> Result<FormTemplate, PyrusError> {
        let reply = self
            .send_authed(|s| {
                Ok(self
                    .http
                    .get(format!("{}forms/{form_id}", s.endpoints.api_url))
                    .timeout(self.config.request_timeout))
            })
            .await?;
        let dto: TemplateDto = read_json(&reply)?;
        Ok(FormTemplate {
            fields: flattened(dto.fields),
            steps: dto
                .steps
                .into_iter()
                .filter_map(|(n, name)| Some((n.parse().ok()?, name)))
                .collect(),
        })
    }

    /// `POST forms/{id}/register`: one page (see [`RegisterPage`]), by task id.
    pub async fn form_register(
        &self,
        page: &RegisterPage,
    ) -> Result<Vec<RegisterTask>, PyrusError> {
        let mut body = serde_json::json!({
            "item_count": page.item_count,
            "include_archived": "y",
            "sort": "id",
            "id": format!("gt{}", page.after_id),
            "field_ids": page.field_ids,
        });
        if let Some(after) = &page.modified_after {
            body["modified_after"] = serde_json::Value::String(after.clone());
        }
        let reply = self
            .send_authed(|s| {
                Ok(self
                    .http
                    .post(format!(
                        "{}forms/{}/register",
                        s.endpoints.api_url, page.form_id
                    ))
                    .json(&body)
                    .timeout(self.config.request_timeout))
            })
            .await?;
        let dto: RegisterDto = read_json(&reply)?;
        Ok(dto
            .tasks
            .into_iter()
            .map(|t| t.into_task(&page.field_ids))
            .collect())
    }
}
