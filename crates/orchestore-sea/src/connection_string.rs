//! Database connection strings in their two forms, and the one place that redacts them.
//!
//! A URL (`sqlite://orchestore.db?mode=rwc`, `postgres://app:pw@db/orchestore?sslmode=require`)
//! or a PostgreSQL key=value string (`host=db user=app password='two words' dbname=orchestore`,
//! as libpq reads it). Whatever shows a connection string goes through [`redact`].

use std::fmt;

use url::Url;

/// What a secret is replaced with.
const MASK: &str = "***";

/// Words that make a parameter name a secret's: `password`, `sslpassword`, `passfile`,
/// `sslkey`, `token`, `client_secret`, ….
const SECRET_NAME_PARTS: [&str; 6] = ["pass", "pwd", "secret", "token", "key", "credential"];

/// A connection string read into its parts.
#[derive(Debug)]
pub(crate) enum ConnectionString {
    Url(Url),
    /// The `key=value` pairs in their order, values unquoted.
    KeyValue(Vec<(String, String)>),
}

/// Why a connection string cannot be read. It never quotes the string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreadable(&'static str);

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl ConnectionString {
    pub(crate) fn parse(raw: &str) -> Result<Self, Unreadable> {
        if has_scheme(raw) {
            // The URL parser's errors name what is wrong, never the input.
            Url::parse(raw)
                .map(Self::Url)
                .map_err(|_| Unreadable("not a valid URL"))
        } else {
            parse_key_value(raw).map(Self::KeyValue)
        }
    }
}

/// Whether a parameter of this name holds a secret.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_NAME_PARTS.iter().any(|part| name.contains(part))
}

/// `raw` with every secret replaced by `***`: the password of a URL's user information, and
/// the value of every parameter whose name says it is a secret (see [`is_secret_name`]), in a
/// URL's query or a key=value string. A string without secrets comes back unchanged; one that
/// cannot be read comes back as a placeholder, since which part is secret cannot be told.
pub(crate) fn redact(raw: &str) -> String {
    match ConnectionString::parse(raw) {
        Ok(ConnectionString::Url(url)) => redact_url(raw, url),
        Ok(ConnectionString::KeyValue(pairs)) => {
            if pairs.iter().any(|(key, _)| is_secret_name(key)) {
                write_key_value(&pairs)
            } else {
                raw.to_owned()
            }
        }
        Err(why) => match raw.split_once(':').filter(|_| has_scheme(raw)) {
            Some((scheme, _)) => format!("{scheme}:<{why}, redacted>"),
            None => format!("<{why}, redacted>"),
        },
    }
}

fn redact_url(raw: &str, mut url: Url) -> String {
    let mut changed = false;
    if url.password().is_some() {
        // Only a URL with a host has a password, and such a URL takes a new one.
        changed = url.set_password(Some(MASK)).is_ok();
    }
    if url.query_pairs().any(|(key, _)| is_secret_name(&key)) {
        // Names are compared decoded, as the driver reads them (`pass%77ord` is `password`).
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let value = if is_secret_name(&key) {
                    MASK.to_owned()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        changed = true;
    }
    if changed { url.into() } else { raw.to_owned() }
}

/// Whether `raw` starts with a URL scheme (`sqlite:`, `postgres:`): a key=value string starts
/// with a key and `=`.
fn has_scheme(raw: &str) -> bool {
    let Some((scheme, _)) = raw.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Reads `key=value` pairs as libpq does: separated by whitespace, with optional whitespace
/// around `=`; a value is single-quoted to hold spaces (or to be empty), and a backslash
/// escapes the next character.
fn parse_key_value(raw: &str) -> Result<Vec<(String, String)>, Unreadable> {
    let mut pairs = Vec::new();
    let mut chars = raw.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if key.is_empty() || chars.next() != Some('=') {
            return Err(Unreadable("not a URL, nor key=value pairs"));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\'') => break,
                    Some('\\') => value.extend(chars.next()),
                    Some(c) => value.push(c),
                    None => return Err(Unreadable("a quoted value is not closed")),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// Writes pairs back as a key=value string, secrets masked, quoting values that need it.
fn write_key_value(pairs: &[(String, String)]) -> String {
    let written: Vec<String> = pairs
        .iter()
        .map(|(key, value)| {
            if is_secret_name(key) {
                format!("{key}={MASK}")
            } else if value.is_empty()
                || value
                    .chars()
                    .any(|c| c.is_whitespace() || c == '\'' || c == '\\')
            {
                let escaped = value.replace('\\', "\\\\").replace('\'', "\\'");
                format!("{key}='{escaped}'")
            } else {
                format!("{key}={value}")
            }
        })
        .collect();
    written.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_loses_its_user_password() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/orchestore"),
            "postgres://app:***@db:5432/orchestore"
        );
        // An `@` in the password, not percent-encoded: the last `@` ends the user information.
        assert_eq!(
            redact("postgres://app:s3c@ret@db/orchestore"),
            "postgres://app:***@db/orchestore"
        );
        assert_eq!(redact("postgres://:s3cret@db/x"), "postgres://:***@db/x");
    }

    #[test]
    fn secret_query_parameters_are_masked() {
        assert_eq!(
            redact("postgres://app@db/orchestore?sslmode=require&password=s3cret"),
            "postgres://app@db/orchestore?sslmode=require&password=***"
        );
        assert_eq!(
            redact("postgres://db/x?sslpassword=s3cret&application_name=orchestore"),
            "postgres://db/x?sslpassword=***&application_name=orchestore"
        );
        // Decoded and case-insensitive, as the driver compares them.
        let encoded = redact("postgres://db/x?pass%77ord=s3cret&API_TOKEN=t0ken&client_secret=c");
        for secret in ["s3cret", "t0ken", "=c"] {
            assert!(!encoded.contains(secret), "{encoded}");
        }
    }

    #[test]
    fn key_value_strings_lose_their_secrets() {
        assert_eq!(
            redact("host=db port=5432 user=app password=s3cret dbname=orchestore"),
            "host=db port=5432 user=app password=*** dbname=orchestore"
        );
        assert_eq!(
            redact("host = db password = 'two s3cret words' application_name='my app'"),
            "host=db password=*** application_name='my app'"
        );
        assert_eq!(
            redact(r"password='it\'s s3cret' sslpassword=k3y user=app"),
            "password=*** sslpassword=*** user=app"
        );
    }

    #[test]
    fn strings_without_secrets_are_left_as_they_are() {
        for raw in [
            "sqlite::memory:",
            "sqlite://orchestore.db?mode=rwc",
            "sqlite:///var/lib/orchestore/orchestore.db",
            "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
            "postgresql://db/orchestore",
            "host=/var/run/postgresql dbname=orchestore",
            "",
        ] {
            assert_eq!(redact(raw), raw);
        }
    }

    #[test]
    fn unreadable_strings_show_nothing() {
        for (raw, shown) in [
            (
                "postgres://app:s3c/ret@db/orchestore",
                "postgres:<not a valid URL, redacted>",
            ),
            (
                "host=db password='s3cret",
                "<a quoted value is not closed, redacted>",
            ),
            ("s3cret", "<not a URL, nor key=value pairs, redacted>"),
        ] {
            assert_eq!(redact(raw), shown);
        }
    }

    #[test]
    fn key_value_strings_are_read_as_libpq_reads_them() {
        let Ok(ConnectionString::KeyValue(pairs)) =
            ConnectionString::parse(r" host=db  password = 'a \'b\' c\\' empty='' x=y\ z ")
        else {
            panic!("a key=value string");
        };
        let expected = [
            ("host", "db"),
            ("password", r"a 'b' c\"),
            ("empty", ""),
            ("x", "y z"),
        ];
        assert_eq!(
            pairs,
            expected.map(|(key, value)| (key.to_owned(), value.to_owned()))
        );
    }
}
