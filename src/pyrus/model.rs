//! Request and response bodies of the Pyrus v4 API, exactly as they travel on the wire.

use serde::{Deserialize, Serialize};

use crate::domain::Person;

/// `POST {auth_url}` body.
#[derive(Serialize)]
pub(crate) struct AuthRequest<'a> {
    pub login: &'a str,
    pub security_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_id: Option<u64>,
}

/// `POST {auth_url}` reply.
#[derive(Deserialize)]
pub(crate) struct AuthResponse {
    pub access_token: String,
    #[serde(default)]
    pub api_url: Option<String>,
    #[serde(default)]
    pub files_url: Option<String>,
}

/// One mapping as sent: the value is always a JSON string.
#[derive(Serialize)]
pub(crate) struct MappingDto<'a> {
    pub code: &'a str,
    pub value: &'a str,
}

/// `POST {api_url}integrations/call` body.
#[derive(Serialize)]
pub(crate) struct CallDto<'a> {
    pub account_id: &'a str,
    pub from_number: &'a str,
    pub to_number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<MappingDto<'a>>,
}

/// `POST {api_url}integrations/call` reply; every field but `task_id` may be absent.
#[derive(Deserialize)]
pub(crate) struct CallResponseDto {
    pub task_id: u64,
    #[serde(default)]
    pub is_new_task: bool,
    #[serde(default)]
    pub responsible_person: Option<Person>,
}

/// `POST {api_url}integrations/attachcallrecord` body; unused identifiers are left out.
#[derive(Serialize)]
pub(crate) struct AttachDto<'a> {
    pub account_id: &'a str,
    pub record_file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<MappingDto<'a>>,
}

/// `POST …files/upload` reply.
#[derive(Deserialize)]
pub(crate) struct UploadResponseDto {
    pub guid: String,
    #[serde(default)]
    pub md5_hash: Option<String>,
}

/// A Pyrus error body. `error_message` appears in the SDK models.
#[derive(Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_message: Option<String>,
}

/// One field of a form template, as `GET /forms/{id}` returns it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct FormField {
    /// Field id.
    pub id: u64,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Field type (`text`, `phone`, `multiple_choice`, …).
    #[serde(default, rename = "type")]
    pub field_type: String,
    /// The code mappings target; absent when the admin set none.
    #[serde(default)]
    pub code: Option<String>,
    /// Type-specific details (choice options).
    #[serde(default)]
    pub info: Option<FieldInfo>,
}

/// The `info` object of a form field.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
pub struct FieldInfo {
    /// Choice options of a `multiple_choice` field.
    #[serde(default)]
    pub options: Vec<ChoiceOption>,
    /// The fields inside a section (`title`).
    #[serde(default)]
    pub fields: Vec<FormField>,
}

/// One choice option.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ChoiceOption {
    /// Its id: what a comment sets the field to.
    #[serde(default)]
    pub choice_id: u64,
    /// The text the agent sees.
    #[serde(default)]
    pub choice_value: String,
    /// True for options removed from the form.
    #[serde(default)]
    pub deleted: bool,
}

impl FormField {
    /// What the mapping editor offers, or `None` for fields without a code.
    pub fn to_info(&self) -> Option<crate::domain::FormFieldInfo> {
        let code = self.code.clone().filter(|c| !c.trim().is_empty())?;
        Some(crate::domain::FormFieldInfo {
            code,
            name: self.name.clone(),
            field_type: self.field_type.clone(),
            options: self
                .info
                .iter()
                .flat_map(|i| &i.options)
                .filter(|o| !o.deleted && !o.choice_value.is_empty())
                .map(|o| o.choice_value.clone())
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{AttachDto, CallResponseDto, ErrorBody};

    #[test]
    fn reads_the_documented_call_reply() {
        let body = r#"{ "task_id": 458732, "is_new_task": false,
            "responsible_person": { "user_id": "34231", "first_name": "Ilya",
            "last_name": "Laserson", "work_phone": "+79338762030" } }"#;
        let r: CallResponseDto = serde_json::from_str(body).unwrap();
        assert_eq!(r.task_id, 458_732);
        assert!(!r.is_new_task);
        assert_eq!(r.responsible_person.unwrap().user_id, "34231");
        let bare: CallResponseDto = serde_json::from_str(r#"{"task_id":1}"#).unwrap();
        assert!(bare.responsible_person.is_none());
    }

    #[test]
    fn form_fields_keep_codes_and_live_options() {
        let body = r#"{"fields":[
            {"id":1,"name":"Subject","type":"multiple_choice","code":"Subject",
             "info":{"options":[{"choice_id":1,"choice_value":"Consultation"},
                                {"choice_id":2,"choice_value":"Old","deleted":true}]}},
            {"id":2,"name":"No code","type":"text"}]}"#;
        #[derive(serde::Deserialize)]
        struct Form {
            fields: Vec<super::FormField>,
        }
        let form: Form = serde_json::from_str(body).unwrap();
        let infos: Vec<_> = form
            .fields
            .iter()
            .filter_map(super::FormField::to_info)
            .collect();
        assert_eq!(infos.len(), 1);
        assert_eq!(infos[0].options, vec!["Consultation".to_owned()]);
    }

    #[test]
    fn attach_leaves_unused_identifiers_out() {
        let dto = AttachDto {
            account_id: "acc",
            record_file: "guid",
            task_id: None,
            external_id: Some("x"),
            from_number: None,
            to_number: None,
            mappings: vec![],
        };
        let json = serde_json::to_string(&dto).unwrap();
        assert_eq!(
            json,
            r#"{"account_id":"acc","record_file":"guid","external_id":"x"}"#
        );
    }

    #[test]
    fn reads_error_bodies() {
        let e: ErrorBody =
            serde_json::from_str(r#"{"error_code":"revoked_token","error":"Токен отозван"}"#)
                .unwrap();
        assert_eq!(e.error_code.as_deref(), Some("revoked_token"));
        assert_eq!(e.error.as_deref(), Some("Токен отозван"));
        assert!(e.error_message.is_none());
    }
}
