//! No secret anywhere, tried as an attacker would: passwords, their bcrypt hashes, access and
//! refresh tokens, agent API keys, the JWT key and the database password appear in no log line
//! at any level, no `Debug` output, no error message, and no response but the one that hands
//! them out.
//!
//! A test binary of its own: `capture` installs a global subscriber at TRACE for every target,
//! which would slow the API suite down.

mod app;
mod binary;
mod capture;
mod debug;

/// The secrets of a run, each with what it is.
#[derive(Default)]
pub struct Secrets(Vec<(&'static str, String)>);

impl Secrets {
    pub fn add(&mut self, what: &'static str, value: impl Into<String>) {
        let value = value.into();
        assert!(value.len() >= 8, "{what} is too short to search for");
        self.0.push((what, value));
    }

    /// Fails, quoting the line, when `text` (from `source`) shows one of the secrets.
    pub fn assert_absent(&self, source: &str, text: &str) {
        self.assert_absent_except(source, text, &[]);
    }

    /// As [`Secrets::assert_absent`], but the secrets in `shown` may be there.
    pub fn assert_absent_except(&self, source: &str, text: &str, shown: &[&str]) {
        for (what, secret) in &self.0 {
            if shown.contains(&secret.as_str()) {
                continue;
            }
            if let Some(line) = text.lines().find(|line| line.contains(secret.as_str())) {
                panic!("{what} appears in {source}: {line}");
            }
        }
    }
}
