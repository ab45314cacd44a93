//! Templates: reusable, parameterised batches of tasks or workflow definitions.
//!
//! A template declares parameters and a JSON body with `{{name}}` placeholders. Instantiating
//! it with arguments fills the placeholders in and checks the result as strictly as if it had
//! been sent directly, so a template can never produce a task or workflow the API would
//! refuse. Each use is recorded as a [`TemplateUsage`] so that what a template made stays
//! traceable.

mod body;
mod kind;
mod parameter;
mod placeholder;
mod template;

pub use body::{TaskSpec, TemplateBody};
pub use kind::TemplateKind;
pub use parameter::{ParameterName, TemplateParameter, TemplateParameters};
pub use template::{Instantiated, NewTemplate, Template, TemplatePatch, TemplateUsage};

use serde_json::Value;

use crate::DomainError;

/// Whether a JSON document holds U+0000 (which PostgreSQL cannot store) in a key or string.
fn json_has_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(json_has_nul),
        Value::Object(map) => map
            .iter()
            .any(|(key, item)| key.contains('\0') || json_has_nul(item)),
        _ => false,
    }
}

/// An error's reason without its field, to re-file it under another field.
fn reason(error: DomainError) -> String {
    match error {
        DomainError::Invalid { reason, .. } => reason,
        other => other.to_string(),
    }
}
