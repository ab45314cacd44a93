//! The typed value model: what a column holds, independent of the backend that stores it, and
//! its one text form (the dump's JSON), from which every checksum is computed.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{DbBackend, QueryResult, TryGetable, Value};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What a column holds, read from the declared type of SQLite or the type of PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Uuid,
    Timestamp,
    Json,
    Bool,
    /// An integer of this many bytes on PostgreSQL (SQLite reads every integer as 8).
    Int(u8),
    Float,
    Text,
    Bytes,
}

impl Kind {
    /// The kind of a SQLite column by its declared type, as SeaQuery writes it.
    pub(crate) fn from_sqlite(declared: &str) -> Option<Self> {
        let lower = declared.to_ascii_lowercase();
        let base = lower.split('(').next().unwrap_or("").trim();
        Some(match base {
            "uuid_text" | "uuid" => Self::Uuid,
            "timestamp_with_timezone_text" | "timestamptz" => Self::Timestamp,
            "jsonb_text" | "json_text" | "json" | "jsonb" => Self::Json,
            "boolean" | "bool" => Self::Bool,
            "integer" | "int" | "bigint" | "smallint" | "tinyint" => Self::Int(8),
            "double" | "real" | "float" | "double precision" => Self::Float,
            "blob" | "binary" | "varbinary" | "bytea" => Self::Bytes,
            "text" | "varchar" | "char" | "character varying" | "string" => Self::Text,
            _ => return None,
        })
    }

    /// The kind of a PostgreSQL column by its type name (`pg_type.typname`).
    pub(crate) fn from_postgres(type_name: &str) -> Option<Self> {
        Some(match type_name {
            "uuid" => Self::Uuid,
            "timestamptz" => Self::Timestamp,
            "jsonb" | "json" => Self::Json,
            "bool" => Self::Bool,
            "int2" => Self::Int(2),
            "int4" => Self::Int(4),
            "int8" => Self::Int(8),
            "float8" => Self::Float,
            "text" | "varchar" | "bpchar" => Self::Text,
            "bytea" => Self::Bytes,
            _ => return None,
        })
    }

    /// A NULL of this kind: PostgreSQL wants a NULL parameter typed as its column.
    fn null(self) -> Value {
        match self {
            Self::Uuid => Option::<Uuid>::None.into(),
            Self::Timestamp => Option::<DateTime<Utc>>::None.into(),
            Self::Json => Option::<Json>::None.into(),
            Self::Bool => Option::<bool>::None.into(),
            Self::Int(2) => Option::<i16>::None.into(),
            Self::Int(4) => Option::<i32>::None.into(),
            Self::Int(_) => Option::<i64>::None.into(),
            Self::Float => Option::<f64>::None.into(),
            Self::Text => Option::<String>::None.into(),
            Self::Bytes => Option::<Vec<u8>>::None.into(),
        }
    }
}

/// One stored value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Datum {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Uuid(Uuid),
    /// At microseconds, the precision PostgreSQL keeps.
    Timestamp(DateTime<Utc>),
    Json(Json),
    Bytes(Vec<u8>),
}

fn get<T: TryGetable>(row: &QueryResult, index: usize) -> Result<Option<T>, String> {
    row.try_get_by_index::<Option<T>>(index)
        .map_err(|e| e.to_string())
}

impl Datum {
    /// Reads column `index` of `row` as `kind`.
    pub(crate) fn read(
        row: &QueryResult,
        index: usize,
        kind: Kind,
        backend: DbBackend,
    ) -> Result<Self, String> {
        let sqlite = backend == DbBackend::Sqlite;
        let datum = match kind {
            // SeaORM binds a UUID as 16 bytes on SQLite; a UUID written as text reads too.
            Kind::Uuid => match get::<Uuid>(row, index) {
                Ok(v) => v.map(Self::Uuid),
                Err(err) if sqlite => match get::<String>(row, index).map_err(|_| err)? {
                    Some(text) => Some(Self::Uuid(
                        Uuid::parse_str(&text).map_err(|e| format!("{text:?}: {e}"))?,
                    )),
                    None => None,
                },
                Err(err) => return Err(err),
            },
            Kind::Timestamp => {
                get::<DateTime<Utc>>(row, index)?.map(|at| Self::Timestamp(at.trunc_subsecs(6)))
            }
            Kind::Json if sqlite => match get::<String>(row, index)? {
                Some(text) => Some(Self::Json(
                    serde_json::from_str(&text).map_err(|e| format!("JSON {text:?}: {e}"))?,
                )),
                None => None,
            },
            Kind::Json => get::<Json>(row, index)?.map(Self::Json),
            Kind::Bool => get::<bool>(row, index)?.map(Self::Bool),
            Kind::Int(2) if !sqlite => get::<i16>(row, index)?.map(|v| Self::Int(v.into())),
            Kind::Int(4) if !sqlite => get::<i32>(row, index)?.map(|v| Self::Int(v.into())),
            Kind::Int(_) => get::<i64>(row, index)?.map(Self::Int),
            Kind::Float => get::<f64>(row, index)?.map(Self::Float),
            Kind::Text => get::<String>(row, index)?.map(Self::Text),
            Kind::Bytes => get::<Vec<u8>>(row, index)?.map(Self::Bytes),
        };
        Ok(datum.unwrap_or(Self::Null))
    }

    /// The value to bind for a column of `kind` (the datum was decoded as that kind).
    pub(crate) fn bind(&self, kind: Kind) -> Value {
        match (self, kind) {
            (Self::Null, _) => kind.null(),
            (Self::Bool(v), _) => (*v).into(),
            (Self::Int(v), Kind::Int(2)) => {
                i16::try_from(*v).map_or_else(|_| (*v).into(), Into::into)
            }
            (Self::Int(v), Kind::Int(4)) => {
                i32::try_from(*v).map_or_else(|_| (*v).into(), Into::into)
            }
            (Self::Int(v), _) => (*v).into(),
            (Self::Float(v), _) => (*v).into(),
            (Self::Text(v), _) => v.clone().into(),
            (Self::Uuid(v), _) => (*v).into(),
            (Self::Timestamp(v), _) => (*v).into(),
            (Self::Json(v), _) => v.clone().into(),
            (Self::Bytes(v), _) => v.clone().into(),
        }
    }

    /// The dump's form: UUIDs and timestamps (RFC 3339, microseconds, `Z`) as strings, JSON
    /// documents as their canonical text (so that a JSON `null` stays apart from SQL NULL),
    /// bytes as lowercase hex.
    pub(crate) fn encode(&self) -> Result<Json, String> {
        Ok(match self {
            Self::Null => Json::Null,
            Self::Bool(v) => Json::Bool(*v),
            Self::Int(v) => Json::from(*v),
            Self::Float(v) => serde_json::Number::from_f64(*v)
                .map(Json::Number)
                .ok_or_else(|| format!("the number {v} has no JSON form"))?,
            Self::Text(v) => Json::String(v.clone()),
            Self::Uuid(v) => Json::String(v.hyphenated().to_string()),
            Self::Timestamp(v) => Json::String(v.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()),
            Self::Json(v) => Json::String(canonical_json(v)),
            Self::Bytes(v) => Json::String(hex::encode(v)),
        })
    }

    /// Decodes the dump's form of a column of `kind`.
    pub(crate) fn decode(value: &Json, kind: Kind) -> Result<Self, String> {
        let wrong = || format!("{value} is not a {kind:?} value");
        if value.is_null() {
            return Ok(Self::Null);
        }
        Ok(match kind {
            Kind::Uuid => Self::Uuid(
                Uuid::parse_str(value.as_str().ok_or_else(wrong)?).map_err(|e| e.to_string())?,
            ),
            Kind::Timestamp => Self::Timestamp(
                DateTime::parse_from_rfc3339(value.as_str().ok_or_else(wrong)?)
                    .map_err(|e| format!("{value}: {e}"))?
                    .with_timezone(&Utc)
                    .trunc_subsecs(6),
            ),
            Kind::Json => Self::Json(
                serde_json::from_str(value.as_str().ok_or_else(wrong)?)
                    .map_err(|e| format!("{value}: {e}"))?,
            ),
            Kind::Bool => match value {
                Json::Bool(v) => Self::Bool(*v),
                _ => match value.as_i64() {
                    Some(0) => Self::Bool(false),
                    Some(1) => Self::Bool(true),
                    _ => return Err(wrong()),
                },
            },
            Kind::Int(_) => match value {
                Json::Bool(v) => Self::Int(i64::from(*v)),
                _ => Self::Int(value.as_i64().ok_or_else(wrong)?),
            },
            Kind::Float => Self::Float(value.as_f64().ok_or_else(wrong)?),
            Kind::Text => Self::Text(value.as_str().ok_or_else(wrong)?.to_owned()),
            Kind::Bytes => Self::Bytes(
                hex::decode(value.as_str().ok_or_else(wrong)?).map_err(|e| e.to_string())?,
            ),
        })
    }
}

/// A JSON document as one text whatever stored it: keys sorted (PostgreSQL's `jsonb` reorders
/// them), numbers exactly as they are held (never through `f64`, which would round a long
/// decimal or a big integer: the workspace keeps numbers at arbitrary precision).
pub(crate) fn canonical_json(value: &Json) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Json, out: &mut String) {
    match value {
        Json::Null | Json::Bool(_) | Json::String(_) => out.push_str(&value.to_string()),
        Json::Number(n) => {
            out.push_str(&n.to_string());
        }
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Json::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Json::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
    }
}

/// The rows of a table as a count and an order-independent checksum: the wrapping sum of the
/// first 16 bytes of each row's SHA-256 over its canonical text (columns by name, each with
/// its dump form), so that rows read in any order, from either backend, compare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) rows: u64,
    sum: u128,
}

impl Tally {
    /// Adds a row given as its columns' names and dump forms.
    pub(crate) fn add<'a>(&mut self, row: impl IntoIterator<Item = (&'a str, &'a Json)>) {
        let mut columns: Vec<(&str, &Json)> = row.into_iter().collect();
        columns.sort_by(|a, b| a.0.cmp(b.0));
        let mut hasher = Sha256::new();
        for (name, value) in columns {
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(canonical_json(value).as_bytes());
            hasher.update([b'\n']);
        }
        let digest = hasher.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        self.rows += 1;
        self.sum = self.sum.wrapping_add(u128::from_be_bytes(first));
    }

    pub(crate) fn checksum(&self) -> String {
        format!("{:032x}", self.sum)
    }

    pub(crate) fn from_parts(rows: u64, checksum: &str) -> Option<Self> {
        let sum = u128::from_str_radix(checksum, 16).ok()?;
        Some(Self { rows, sum })
    }

    /// What `self` holds beyond `before` (both tallies of the same table).
    pub(crate) fn minus(&self, before: &Self) -> Self {
        Self {
            rows: self.rows.wrapping_sub(before.rows),
            sum: self.sum.wrapping_sub(before.sum),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_keeps_numbers_exact() {
        let a: Json = serde_json::from_str(
            r#"{"b":1,"a":[1.0,12345678901234567890123,0.12345678901234567890,{"d":null,"c":"x"}]}"#,
        )
        .expect("json");
        assert_eq!(
            canonical_json(&a),
            r#"{"a":[1.0,12345678901234567890123,0.12345678901234567890,{"c":"x","d":null}],"b":1}"#
        );
    }

    #[test]
    fn every_kind_round_trips_through_its_dump_form() {
        let at = DateTime::parse_from_rfc3339("2026-11-27T17:26:02.123456Z")
            .expect("time")
            .with_timezone(&Utc);
        for (datum, kind) in [
            (Datum::Uuid(Uuid::now_v7()), Kind::Uuid),
            (Datum::Timestamp(at), Kind::Timestamp),
            (
                Datum::Json(serde_json::json!({"k": [1, "two", null]})),
                Kind::Json,
            ),
            (Datum::Json(Json::Null), Kind::Json),
            (Datum::Bool(true), Kind::Bool),
            (Datum::Int(-42), Kind::Int(4)),
            (Datum::Float(0.1), Kind::Float),
            (Datum::Text("é\"\n".to_owned()), Kind::Text),
            (Datum::Bytes(vec![0, 1, 254, 255]), Kind::Bytes),
            (Datum::Null, Kind::Json),
        ] {
            let encoded = datum.encode().expect("encode");
            assert_eq!(Datum::decode(&encoded, kind).expect("decode"), datum);
        }
    }

    #[test]
    fn a_tally_does_not_depend_on_row_order() {
        let (x, y) = (Json::from(1), Json::from("y"));
        let mut one = Tally::default();
        one.add([("a", &x), ("b", &y)]);
        one.add([("a", &y), ("b", &x)]);
        let mut two = Tally::default();
        two.add([("b", &x), ("a", &y)]);
        two.add([("b", &y), ("a", &x)]);
        assert_eq!(one, two);
        assert_eq!(Tally::from_parts(2, &one.checksum()), Some(one));
    }
}
