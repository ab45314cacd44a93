//! Extractors for request DTOs that report the field at fault.
//!
//! actix's own `Json` and `Query` only say that deserialization failed. These first take the
//! body as JSON (content type, size and syntax are checked by the `JsonConfig` in
//! [`crate::error::json_config`]) and then deserialize the DTO through `serde_path_to_error`,
//! so a 400 names the field. A struct takes a JSON object only ([`ObjectsOnly`]).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::Deserializer;
use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{DeserializeOwned, IntoDeserializer, Unexpected, Visitor};
use serde_json::Value;

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
            serde_path_to_error::deserialize(ObjectsOnly(value))
                .map(ApiJson)
                .map_err(|err| deserialize_error("body", err).into())
        })
    }
}

/// A JSON value to deserialize in which a struct takes an object and nothing else. serde
/// derives `visit_seq` for every struct, which fills the fields from an array by position:
/// `["x"]` as a task's PATCH would set its title. Every other shape deserializes as from the
/// `Value` itself (the payload of an enum variant included: none of the API's bodies has a
/// struct there).
struct ObjectsOnly(Value);

impl ObjectsOnly {
    fn unexpected(&self) -> Unexpected<'_> {
        match &self.0 {
            Value::Null => Unexpected::Other("null"),
            Value::Bool(value) => Unexpected::Bool(*value),
            Value::Number(_) => Unexpected::Other("number"),
            Value::String(_) => Unexpected::Other("string"),
            Value::Array(_) => Unexpected::Seq,
            Value::Object(_) => Unexpected::Map,
        }
    }
}

impl<'de> IntoDeserializer<'de, serde_json::Error> for ObjectsOnly {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> Deserializer<'de> for ObjectsOnly {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => {
                let mut items = SeqDeserializer::new(items.into_iter().map(Self));
                let value = visitor.visit_seq(&mut items)?;
                items.end()?;
                Ok(value)
            }
            Value::Object(entries) => {
                let mut entries = MapDeserializer::new(
                    entries.into_iter().map(|(key, value)| (key, Self(value))),
                );
                let value = visitor.visit_map(&mut entries)?;
                entries.end()?;
                Ok(value)
            }
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        if self.0.is_object() {
            self.deserialize_any(visitor)
        } else {
            Err(serde::de::Error::invalid_type(
                self.unexpected(),
                &"a JSON object",
            ))
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if self.0.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map identifier ignored_any
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
