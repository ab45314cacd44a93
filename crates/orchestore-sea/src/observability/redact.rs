//! Secrets kept out of the audit log, whatever a mutation hands it.
//!
//! The mutations record no secret on purpose (a user's snapshot has no password hash, a key's
//! row no hash, a session no token); this is the second line: [`Mutation::audit`] passes every
//! change through [`redact`], which replaces, at any depth, the value of a field whose name
//! says it is a secret, and any string that is one of the secrets this system issues.
//! Free-form JSON (an agent's `config`, a task's `metadata`) is where a secret could slip in,
//! such as a provider's API key in an agent's configuration.
//!
//! Names are split into words (`apiKey`, `api-key`, `API_KEY` → `api`, `key`) and a name is
//! a secret's when a word is `password`, `secret`, `token`, `apikey`, `authorization`, … (or
//! contains `password`, `passwd`, `secret` or `apikey`, or ends in `token`), when a `key` is
//! an API, private, secret, signing, access, encryption or session key, or a key's hash
//! (`key_hash`). Token counts are not secrets: `max_tokens`, `total_tokens`, `token_count`
//! keep their value.
//!
//! [`Mutation::audit`]: crate::mutation::Mutation::audit

use orchestore_domain::ApiKeySecret;
use serde_json::Value;

/// What a secret is replaced with.
pub(crate) const REDACTED: &str = "<redacted>";

/// Words that make a name a secret's.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "secrets",
    "token",
    "tokens",
    "apikey",
    "apikeys",
    "authorization",
    "cookie",
    "jwt",
    "bearer",
    "privatekey",
];

/// Parts of words that make a name a secret's however it is run together (`dbpassword`,
/// `clientsecret`, `xapikey`).
const SECRET_PARTS: &[&str] = &["password", "passwd", "secret", "apikey"];

/// The words before `key` that make it a secret key.
const KEY_KINDS: &[&str] = &[
    "api",
    "private",
    "secret",
    "signing",
    "access",
    "encryption",
    "session",
];

/// Words that make a name with `token` in it a count of tokens rather than a token.
const COUNT_WORDS: &[&str] = &[
    "max",
    "min",
    "num",
    "count",
    "counts",
    "total",
    "limit",
    "budget",
    "used",
    "usage",
    "input",
    "output",
    "prompt",
    "completion",
    "cached",
    "reasoning",
    "per",
];

/// Replaces every secret in `value` with [`REDACTED`] (a `null` stays `null`: it holds none).
pub(crate) fn redact(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                if is_secret_name(name) && !field.is_null() {
                    *field = Value::String(REDACTED.to_owned());
                } else {
                    redact(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::String(text) if is_secret_value(text) => *text = REDACTED.to_owned(),
        _ => {}
    }
}

/// What every secret's name contains, in ASCII, whatever its case: each word and part above,
/// and `key`. Most names contain none of them and are told apart without splitting them.
const SECRET_TRACES: &[&str] = &[
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "authorization",
    "cookie",
    "jwt",
    "bearer",
];

/// Whether a field of this name holds a secret.
fn is_secret_name(name: &str) -> bool {
    may_name_a_secret(name) && names_a_secret(name)
}

/// False when `name` cannot be a secret's: it is ASCII (a word of it lower-cased is then a part
/// of it in another case) and holds none of [`SECRET_TRACES`]. Other names are split: a letter
/// outside ASCII may lower-case into one inside it (the Kelvin sign into `k`).
fn may_name_a_secret(name: &str) -> bool {
    !name.is_ascii()
        || SECRET_TRACES.iter().any(|trace| {
            name.as_bytes()
                .windows(trace.len())
                .any(|part| part.eq_ignore_ascii_case(trace.as_bytes()))
        })
}

/// Whether a field of this name holds a secret, by its words.
fn names_a_secret(name: &str) -> bool {
    let words = words(name);
    let counts_tokens = words.iter().any(|w| COUNT_WORDS.contains(&w.as_str()));
    let about_tokens = |word: &str| word == "token" || word == "tokens" || word.ends_with("token");
    words.iter().enumerate().any(|(at, word)| {
        let word = word.as_str();
        if about_tokens(word) {
            return !counts_tokens;
        }
        if SECRET_WORDS.contains(&word) || SECRET_PARTS.iter().any(|part| word.contains(part)) {
            return true;
        }
        if word == "key" || word == "keys" {
            let before = at.checked_sub(1).and_then(|i| words.get(i));
            let after = words.get(at + 1);
            return before.is_some_and(|w| KEY_KINDS.contains(&w.as_str()))
                || after.is_some_and(|w| w == "hash");
        }
        false
    })
}

/// The lower-cased words of a name: split at anything not a letter or digit, and where the
/// case turns (`apiKey` → `api`, `key`; `APIKey` → `api`, `key`).
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (at, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        if c.is_uppercase() && !word.is_empty() {
            let previous = chars[at - 1];
            let next_is_lower = chars.get(at + 1).is_some_and(|n| n.is_lowercase());
            if previous.is_lowercase()
                || previous.is_ascii_digit()
                || (previous.is_uppercase() && next_is_lower)
            {
                words.push(std::mem::take(&mut word));
            }
        }
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Whether a string is a secret this system issues or keeps: an agent API key (`osk_…`), a
/// bcrypt hash or a JSON Web Token.
fn is_secret_value(text: &str) -> bool {
    ApiKeySecret::parse(text).is_some() || is_bcrypt_hash(text) || is_jwt(text)
}

fn is_bcrypt_hash(text: &str) -> bool {
    text.len() == 60
        && ["$2a$", "$2b$", "$2x$", "$2y$"]
            .iter()
            .any(|p| text.starts_with(p))
}

fn is_jwt(text: &str) -> bool {
    let base64url = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !text.starts_with("eyJ") {
        return false;
    }
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3 && parts.iter().all(|part| base64url(part))
}

#[cfg(test)]
mod tests {
    use orchestore_domain::{ApiKeyId, OrganizationId, Password, PasswordHash};
    use serde_json::json;

    use super::*;

    #[test]
    fn names_are_split_into_words() {
        assert_eq!(words("apiKey"), ["api", "key"]);
        assert_eq!(words("APIKey"), ["api", "key"]);
        assert_eq!(words("X-Api-Key"), ["x", "api", "key"]);
        assert_eq!(words("refresh_token_hash"), ["refresh", "token", "hash"]);
        assert_eq!(words("oauth2Token"), ["oauth2", "token"]);
    }

    #[test]
    fn secret_names_are_recognised_and_others_left() {
        for name in [
            "password",
            "password_hash",
            "passwordHash",
            "new_password",
            "dbPassword",
            "dbpassword",
            "secret",
            "client_secret",
            "clientsecret",
            "jwt_secret",
            "token",
            "access_token",
            "accessToken",
            "accesstoken",
            "refresh_token_hash",
            "lease_token",
            "api_key",
            "apiKey",
            "API_KEY",
            "x-api-key",
            "openai_api_key",
            "apikey",
            "key_hash",
            "private_key",
            "signing_key",
            "Authorization",
            "cookie",
        ] {
            assert!(is_secret_name(name), "{name} is a secret's name");
        }
        for name in [
            "name",
            "id",
            "agent_id",
            "key",
            "idempotency_key",
            "hash",
            "max_tokens",
            "maxTokens",
            "total_tokens",
            "token_count",
            "input_tokens",
            "tokenizer",
            "expires_at",
            "replaces",
            "credential",
        ] {
            assert!(!is_secret_name(name), "{name} is no secret's name");
        }
    }

    #[test]
    fn the_shortcut_lets_every_secrets_name_through() {
        // Every name of up to three words drawn from the lists above and a few others, in
        // three cases and with three separators: the shortcut passes every one the words make
        // a secret's, and stops some of the rest.
        let mut words: Vec<&str> = [SECRET_WORDS, SECRET_PARTS, KEY_KINDS, COUNT_WORDS]
            .concat()
            .to_vec();
        words.extend([
            "key",
            "keys",
            "hash",
            "db",
            "x",
            "name",
            "id",
            "",
            "K\u{212A}",
        ]);
        let cased = |word: &str, case: usize| match case {
            0 => word.to_owned(),
            1 => word.to_uppercase(),
            _ => {
                let mut chars = word.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_uppercase().chain(chars).collect()
                })
            }
        };
        let (mut stopped, mut secrets) = (0, 0);
        for (a, b, c) in words
            .iter()
            .flat_map(|a| words.iter().map(move |b| (*a, *b)))
            .flat_map(|(a, b)| ["", "x", "token"].into_iter().map(move |c| (a, b, c)))
        {
            for case in 0..3 {
                for separator in ["_", "-", ""] {
                    let name = [cased(a, case), cased(b, 2), c.to_owned()].join(separator);
                    if names_a_secret(&name) {
                        secrets += 1;
                        assert!(may_name_a_secret(&name), "{name} is a secret's name");
                    } else if !may_name_a_secret(&name) {
                        stopped += 1;
                    }
                }
            }
        }
        assert!(
            secrets > 0 && stopped > 0,
            "{secrets} secrets, {stopped} stopped"
        );
        assert!(
            is_secret_name("api\u{212A}ey"),
            "the Kelvin sign lower-cases into k"
        );
    }

    #[test]
    fn secrets_are_redacted_at_any_depth_and_the_rest_kept() {
        let mut changes = json!({
            "name": "worker",
            "config": {
                "model": "gpt",
                "max_tokens": 1000,
                "openai_api_key": "sk-live-123",
                "nested": [{"password": "hunter2"}, {"headers": {"Authorization": "Bearer x"}}],
                "password_hint": null,
                "password": null,
            },
            "password_hash": {"from": "$2b$…", "to": "$2b$…"},
            "key_hash": "ab12",
            "idempotency_key": "order-42",
        });
        redact(&mut changes);
        assert_eq!(
            changes,
            json!({
                "name": "worker",
                "config": {
                    "model": "gpt",
                    "max_tokens": 1000,
                    "openai_api_key": REDACTED,
                    "nested": [{"password": REDACTED}, {"headers": {"Authorization": REDACTED}}],
                    "password_hint": null,
                    "password": null,
                },
                "password_hash": REDACTED,
                "key_hash": REDACTED,
                "idempotency_key": "order-42",
            })
        );
    }

    #[test]
    fn secrets_this_system_issues_are_redacted_under_any_name() {
        let key = ApiKeySecret::new(OrganizationId::new(), ApiKeyId::new(), [9; 32]);
        let hash = PasswordHash::hash(&Password::offered("correct horse"), 4).expect("hash");
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        let mut changes = json!({
            "note": key.expose(),
            "list": [hash.as_str(), jwt],
            "plain": "osk_not_a_key",
            "dotted": "a.b.c",
        });
        redact(&mut changes);
        assert_eq!(
            changes,
            json!({
                "note": REDACTED,
                "list": [REDACTED, REDACTED],
                "plain": "osk_not_a_key",
                "dotted": "a.b.c",
            })
        );
    }
}
