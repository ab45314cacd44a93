//! The links of the audit chain: how a row, as read back from the database, is encoded and
//! hashed.
//!
//! `hash(row) = SHA-256(previous row's hash ‖ encode(row))`, the first row of an
//! organization's chain following 32 zero bytes ([`GENESIS`]). `encode` writes, in this fixed
//! order, after the tag `orchestore.audit.v1` and a zero byte:
//!
//! | field | bytes |
//! |---|---|
//! | `organization_id` | its 16 bytes |
//! | `seq` | 8 bytes, big-endian |
//! | `id` | its 16 bytes |
//! | `created_at` | microseconds since the Unix epoch, 8 bytes, big-endian |
//! | `actor`, `action`, `entity`, `entity_id` | UTF-8 |
//! | `request_id`, `client_addr`, `credential` | UTF-8, or absent |
//! | `changes` | canonical JSON: no whitespace, object keys sorted by their bytes, strings escaped as `serde_json` escapes them, numbers as stored |
//!
//! Each field is `0x01`, its length (8 bytes, big-endian) and its bytes; an absent one is
//! `0x00`. Lengths make the encoding unambiguous (no two rows encode alike, whatever their
//! text holds), and `seq` inside it ties a row to its place. The row is hashed as the
//! database gives it back (PostgreSQL's `jsonb` normalises a document; SQLite keeps the text
//! written), so the sealer and the verifier, both reading it back, agree.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::entity::audit_logs;

/// What the first row of every chain follows.
pub(crate) const GENESIS: [u8; 32] = [0; 32];

const TAG: &[u8] = b"orchestore.audit.v1\0";

/// The link of `row` at `seq`, following `previous`.
pub(crate) fn link(previous: &[u8; 32], row: &audit_logs::Model, seq: i64) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(encode(row, seq));
    hasher.finalize().into()
}

/// A stored hash (hex) as bytes; `None` when it is not 32 bytes of hex.
pub(crate) fn parse_hash(stored: &str) -> Option<[u8; 32]> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(stored, &mut bytes).ok()?;
    Some(bytes)
}

pub(crate) fn to_hex(hash: &[u8; 32]) -> String {
    hex::encode(hash)
}

fn encode(row: &audit_logs::Model, seq: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(TAG);
    field(&mut out, row.organization_id.as_bytes());
    field(&mut out, &seq.to_be_bytes());
    field(&mut out, row.id.as_bytes());
    field(&mut out, &row.created_at.timestamp_micros().to_be_bytes());
    for text in [&row.actor, &row.action, &row.entity, &row.entity_id] {
        field(&mut out, text.as_bytes());
    }
    for text in [&row.request_id, &row.client_addr, &row.credential] {
        match text {
            Some(text) => field(&mut out, text.as_bytes()),
            None => out.push(0),
        }
    }
    let mut changes = String::new();
    canonical_json(&row.changes, &mut changes);
    field(&mut out, changes.as_bytes());
    out
}

fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(1);
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// `value` as JSON text with its object keys sorted, whatever order the map keeps them in
/// (`serde_json` keeps insertion order when a crate in the build enables `preserve_order`).
fn canonical_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => out.push_str(&number.to_string()),
        Value::String(text) => string(text, out),
        Value::Array(items) => {
            out.push('[');
            for (at, item) in items.iter().enumerate() {
                if at > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        Value::Object(fields) => {
            let mut fields: Vec<(&String, &Value)> = fields.iter().collect();
            fields.sort_unstable_by(|(a, _), (b, _)| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (at, (name, field)) in fields.into_iter().enumerate() {
                if at > 0 {
                    out.push(',');
                }
                string(name, out);
                out.push(':');
                canonical_json(field, out);
            }
            out.push('}');
        }
    }
}

fn string(text: &str, out: &mut String) {
    // Serializing a string cannot fail.
    out.push_str(&serde_json::to_string(text).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn row() -> audit_logs::Model {
        audit_logs::Model {
            organization_id: Uuid::from_u128(1),
            id: Uuid::from_u128(2),
            actor: "system".to_owned(),
            action: "task.create".to_owned(),
            entity: "task".to_owned(),
            entity_id: "t1".to_owned(),
            changes: json!({"b": [1, "x"], "a": {"d": null, "c": true}}),
            request_id: None,
            created_at: Utc
                .timestamp_micros(1_700_000_000_123_456)
                .single()
                .expect("time"),
            client_addr: Some("192.0.2.1".to_owned()),
            credential: None,
            seq: None,
            hash: None,
        }
    }

    #[test]
    fn json_is_canonical_whatever_the_key_order() {
        // Numbers keep the text they were read with (`arbitrary_precision`).
        let stored: Value =
            serde_json::from_str(r#"{ "é": 1.50, "b": [1, "x\"y"], "a": {"d": null, "c": true} }"#)
                .expect("json");
        let mut text = String::new();
        canonical_json(&stored, &mut text);
        assert_eq!(text, r#"{"a":{"c":true,"d":null},"b":[1,"x\"y"],"é":1.50}"#);
    }

    #[test]
    fn every_field_and_the_previous_link_change_the_hash() {
        let base = link(&GENESIS, &row(), 1);
        assert_eq!(base, link(&GENESIS, &row(), 1), "deterministic");
        assert_ne!(base, link(&GENESIS, &row(), 2), "seq");
        assert_ne!(base, link(&[1; 32], &row(), 1), "previous link");
        let changed: [fn(&mut audit_logs::Model); 10] = [
            |r| r.organization_id = Uuid::from_u128(9),
            |r| r.id = Uuid::from_u128(9),
            |r| r.created_at += chrono::Duration::microseconds(1),
            |r| r.actor = "user:x".to_owned(),
            |r| r.action = "task.delete".to_owned(),
            |r| r.entity_id = "t2".to_owned(),
            |r| r.request_id = Some(String::new()),
            |r| r.client_addr = None,
            |r| r.credential = Some("api_key:x".to_owned()),
            |r| r.changes = json!({"b": [1, "x"], "a": {"d": null, "c": false}}),
        ];
        for change in changed {
            let mut other = row();
            change(&mut other);
            assert_ne!(base, link(&GENESIS, &other, 1), "{other:?}");
        }
    }

    #[test]
    fn fields_cannot_run_into_each_other() {
        // Moving text from one field to the next changes the encoding.
        let mut a = row();
        a.entity = "task".to_owned();
        a.entity_id = "t1".to_owned();
        let mut b = row();
        b.entity = "taskt".to_owned();
        b.entity_id = "1".to_owned();
        assert_ne!(encode(&a, 1), encode(&b, 1));
        // An empty value is not an absent one.
        let mut empty = row();
        empty.request_id = Some(String::new());
        assert_ne!(encode(&row(), 1), encode(&empty, 1));
    }

    #[test]
    fn a_known_row_has_a_known_link() {
        // Pinned: a change to the encoding would break every chain sealed before it. The
        // module's table, written out by hand in another language (Python's `hashlib` over
        // `bytes(32) + b"orchestore.audit.v1\0" + …`), gives the same digest, so a verifier
        // outside this code can recompute links.
        assert_eq!(
            to_hex(&link(&GENESIS, &row(), 1)),
            "e5c849be2280a14d4f7f10d2978ff5d0213130f27fd47492be98c07f72b0d707"
        );
        let hex = to_hex(&link(&GENESIS, &row(), 1));
        assert_eq!(parse_hash(&hex), Some(link(&GENESIS, &row(), 1)));
        assert_eq!(parse_hash("zz"), None);
    }
}
