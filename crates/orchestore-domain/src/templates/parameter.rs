use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::placeholder::{NAME_MAX, is_name_byte};
use crate::DomainError;
use crate::workflows::json_within;

/// A template parameter's name, as written in `{{name}}`: 1 to 64 of `a-z`, `0-9` and `_`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct ParameterName(String);

impl ParameterName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if raw.is_empty() || raw.len() > NAME_MAX || !raw.bytes().all(is_name_byte) {
            return Err(DomainError::invalid(
                "parameters",
                format!("{raw:?} is not a parameter name (1 to 64 of a-z, 0-9 and '_')"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for ParameterName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for ParameterName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for ParameterName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

deserialize_by_parse!(ParameterName, String, |raw| ParameterName::parse(&raw));

/// One parameter a template declares. A missing argument takes `default`; with no default it
/// is refused when `required`, and otherwise fills its placeholders with `null` (a whole
/// string) or nothing (within text). `default` is checked when the parameter joins a
/// [`TemplateParameters`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TemplateParameter {
    pub name: ParameterName,
    pub description: crate::Description,
    pub required: bool,
    pub default: Option<Value>,
}

/// A template's parameters: names unique, at most 64, each default free of U+0000 and at most
/// 64 KiB of JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct TemplateParameters(Vec<TemplateParameter>);

deserialize_by_parse!(TemplateParameters, Value, TemplateParameters::from_json);

impl TemplateParameters {
    pub const MAX: usize = 64;
    pub const MAX_DEFAULT_BYTES: usize = 64 * 1024;

    pub fn parse(raw: Vec<TemplateParameter>) -> Result<Self, DomainError> {
        if raw.len() > Self::MAX {
            return Err(DomainError::invalid(
                "parameters",
                format!("at most {} parameters", Self::MAX),
            ));
        }
        let mut seen = HashSet::with_capacity(raw.len());
        for parameter in &raw {
            let name = parameter.name.as_str();
            if !seen.insert(name) {
                return Err(DomainError::invalid(
                    "parameters",
                    format!("parameter {name:?} is declared twice"),
                ));
            }
            if let Some(default) = &parameter.default {
                if super::json_has_nul(default) {
                    return Err(DomainError::invalid(
                        "parameters",
                        format!(
                            "the default of {name:?} must not contain the NUL character (U+0000)"
                        ),
                    ));
                }
                if !json_within(default, Self::MAX_DEFAULT_BYTES) {
                    return Err(DomainError::invalid(
                        "parameters",
                        format!(
                            "the default of {name:?} must be at most {} bytes of JSON",
                            Self::MAX_DEFAULT_BYTES
                        ),
                    ));
                }
            }
        }
        Ok(Self(raw))
    }

    /// Parses the JSON form, as the API receives it and the store keeps it: an array of
    /// `{"name", "description"?, "required"?, "default"?}` objects; other keys are refused.
    pub fn from_json(raw: Value) -> Result<Self, DomainError> {
        let invalid = |reason: String| DomainError::invalid("parameters", reason);
        let Value::Array(items) = raw else {
            return Err(invalid("must be an array of parameters".into()));
        };
        let mut parameters = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let Value::Object(mut fields) = item else {
                return Err(invalid(format!("[{index}] must be an object")));
            };
            if let Some(unknown) = fields.keys().find(|key| {
                !matches!(
                    key.as_str(),
                    "name" | "description" | "required" | "default"
                )
            }) {
                return Err(invalid(format!("[{index}] has an unknown key {unknown:?}")));
            }
            let name = match fields.remove("name") {
                Some(Value::String(name)) => ParameterName::parse(&name)
                    .map_err(|e| invalid(format!("[{index}].name: {}", super::reason(e))))?,
                _ => return Err(invalid(format!("[{index}].name must be a string"))),
            };
            let description = match fields.remove("description") {
                None | Some(Value::Null) => crate::Description::empty(),
                Some(Value::String(text)) => crate::Description::parse("parameters", &text)?,
                Some(_) => return Err(invalid(format!("[{index}].description must be a string"))),
            };
            let required = match fields.remove("required") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(required)) => required,
                Some(_) => return Err(invalid(format!("[{index}].required must be a boolean"))),
            };
            // `null` is no default, as the stored form writes an absent one.
            let default = match fields.remove("default") {
                None | Some(Value::Null) => None,
                Some(value) => Some(crate::canonical_json("parameters", value)?),
            };
            parameters.push(TemplateParameter {
                name,
                description,
                required,
                default,
            });
        }
        Self::parse(parameters)
    }

    pub fn as_slice(&self) -> &[TemplateParameter] {
        &self.0
    }

    pub fn iter(&self) -> impl Iterator<Item = &TemplateParameter> {
        self.0.iter()
    }

    pub fn get(&self, name: &str) -> Option<&TemplateParameter> {
        self.0
            .iter()
            .find(|parameter| parameter.name.as_str() == name)
    }

    /// The names, comma-separated, for error messages.
    pub(super) fn names(&self) -> String {
        let names: Vec<&str> = self.0.iter().map(|p| p.name.as_str()).collect();
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::Description;

    fn parameter(name: &str, default: Option<Value>) -> TemplateParameter {
        TemplateParameter {
            name: ParameterName::parse(name).unwrap_or_else(|error| panic!("{error}")),
            description: Description::empty(),
            required: false,
            default,
        }
    }

    #[test]
    fn the_json_form_round_trips() {
        let raw = serde_json::json!([
            {"name": "repo", "description": "which repository", "required": true},
            {"name": "count", "default": 3}
        ]);
        let parameters = TemplateParameters::from_json(raw.clone()).expect("parameters");
        assert_eq!(parameters.as_slice().len(), 2);
        let back = serde_json::to_value(&parameters).expect("serialize");
        assert_eq!(
            TemplateParameters::from_json(back).expect("parse again"),
            parameters
        );
        for bad in [
            serde_json::json!({"name": "x"}),
            serde_json::json!([{"name": "x", "colour": "red"}]),
            serde_json::json!([{"name": "Not Valid"}]),
            serde_json::json!([{"required": true}]),
        ] {
            let error = TemplateParameters::from_json(bad).expect_err("refused");
            assert_eq!(error.field(), Some("parameters"));
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(ParameterName::parse("repo_2").is_ok());
        assert!(ParameterName::parse(&"a".repeat(64)).is_ok());
        for bad in ["", "Repo", "a-b", "a b", &"a".repeat(65)] {
            let error = ParameterName::parse(bad).unwrap_err();
            assert_eq!(error.field(), Some("parameters"), "{bad:?}");
        }
    }

    #[test]
    fn a_list_has_unique_names_and_clean_defaults() {
        let ok = TemplateParameters::parse(vec![
            parameter("repo", None),
            parameter("n", Some(json!(3))),
        ])
        .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(ok.get("n").and_then(|p| p.default.clone()), Some(json!(3)));
        assert_eq!(ok.names(), "repo, n");

        let twice = TemplateParameters::parse(vec![parameter("a", None), parameter("a", None)]);
        assert!(twice.unwrap_err().to_string().contains("declared twice"));
        let nul = TemplateParameters::parse(vec![parameter("a", Some(json!({"k": "\u{0}"})))]);
        assert_eq!(nul.unwrap_err().field(), Some("parameters"));
        let big = "x".repeat(TemplateParameters::MAX_DEFAULT_BYTES);
        assert!(TemplateParameters::parse(vec![parameter("a", Some(json!(big)))]).is_err());
        let many = (0..=TemplateParameters::MAX)
            .map(|i| parameter(&format!("p{i}"), None))
            .collect();
        assert!(TemplateParameters::parse(many).is_err());
    }
}
