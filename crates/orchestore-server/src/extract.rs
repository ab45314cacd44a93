//! Extractors for request DTOs that report the field at fault.
//!
//! actix's own `Json` and `Query` only say that deserialization failed. These first take the
//! body as JSON (content type, size and syntax are checked by the `JsonConfig` in
//! [`crate::error::json_config`]) and then deserialize the DTO through `serde_path_to_error`,
//! so a 400 names the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use orchestore_domain::DomainError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::error::deserialize_error;

/// A JSON body deserialized into `T`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let web::Json(value) = body.await?;
            serde_path_to_error::deserialize(value)
                .map(ApiJson)
                .map_err(|err| deserialize_error("body", err).into())
        })
    }
}

/// A query string deserialized into `T`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        // `?status=&limit=` means "not given", as most clients send it.
        let given = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                form_urlencoded::parse(req.query_string().as_bytes())
                    .filter(|(_, value)| !value.is_empty()),
            )
            .finish();
        let pairs = form_urlencoded::parse(given.as_bytes());
        let result = serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs))
            .map(ApiQuery)
            .map_err(|err| deserialize_error("query string", err).into());
        std::future::ready(result)
    }
}

/// A field of a PATCH body: left out, set to `null`, or given a value. Plain `Option` would
/// not tell "leave it" from "clear it".
#[derive(Debug, Default)]
pub enum PatchField<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> PatchField<T> {
    /// For a field that cannot be cleared: `null` is refused, a value goes through `parse`.
    pub fn parse_required<U>(
        self,
        field: &'static str,
        parse: impl FnOnce(T) -> Result<U, DomainError>,
    ) -> Result<Option<U>, DomainError> {
        match self {
            Self::Absent => Ok(None),
            Self::Null => Err(DomainError::invalid(field, "must not be null")),
            Self::Value(value) => parse(value).map(Some),
        }
    }

    /// For a nullable field: `Some(None)` clears it, a value goes through `parse`.
    pub fn parse_nullable<U>(
        self,
        parse: impl FnOnce(T) -> Result<U, DomainError>,
    ) -> Result<Option<Option<U>>, DomainError> {
        match self {
            Self::Absent => Ok(None),
            Self::Null => Ok(Some(None)),
            Self::Value(value) => parse(value).map(|value| Some(Some(value))),
        }
    }
}

// Only called when the key is present (the field carries `#[serde(default)]`).
impl<'de, T: Deserialize<'de>> Deserialize<'de> for PatchField<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(|value| value.map_or(Self::Null, Self::Value))
    }
}
