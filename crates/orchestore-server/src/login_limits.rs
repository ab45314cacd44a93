//! Failed logins, limited per account and per client address, in the server's memory.
//!
//! Each key (an organization and e-mail address as the client wrote them, or a client
//! address) may fail `max` times within a window that opens at its first failure; past that,
//! every login for the key is refused until the window closes — before any bcrypt work, and
//! with the right password too, so that guessing cannot go on. An attempt is counted as a
//! failure when it is admitted, so that many attempts in flight at once cannot all pass the
//! check; a success then takes its count back, and clears the account's (not the address's:
//! one good account must not reset an address that tries many).
//!
//! The counts live in this process: with several replicas, each counts its own share, so an
//! attacker spreading attempts over `n` replicas gets up to `n` times the limit.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Beyond this many keys, closed windows are dropped (and, if all are open, the oldest half).
const MAX_KEYS: usize = 100_000;

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    window_opened: Instant,
}

/// The failures of one kind of key within a window (also the sign-ups per address: see
/// `signup_limits`).
pub(crate) struct FailureWindow<K> {
    /// 0: no limit.
    max: u32,
    window: Duration,
    failures: Mutex<HashMap<K, Failures>>,
}

impl<K: Eq + Hash + Clone> FailureWindow<K> {
    pub(crate) fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Failures>> {
        // A panic while holding the lock leaves counts that are still counts.
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts an attempt for `key`, or says how long `key` stays refused.
    pub(crate) fn admit(&self, key: &K, now: Instant) -> Result<(), Duration> {
        if self.max == 0 {
            return Ok(());
        }
        let mut failures = self.lock();
        if let Some(counted) = failures.get_mut(key) {
            let closes = counted.window_opened + self.window;
            if closes <= now {
                *counted = Failures {
                    count: 0,
                    window_opened: now,
                };
            } else if counted.count >= self.max {
                return Err(closes - now);
            }
            counted.count += 1;
            return Ok(());
        }
        if failures.len() >= MAX_KEYS {
            let window = self.window;
            failures.retain(|_, f| f.window_opened + window > now);
            if failures.len() >= MAX_KEYS {
                let mut opened: Vec<Instant> = failures.values().map(|f| f.window_opened).collect();
                opened.sort_unstable();
                let median = opened[opened.len() / 2];
                failures.retain(|_, f| f.window_opened > median);
            }
        }
        failures.insert(
            key.clone(),
            Failures {
                count: 1,
                window_opened: now,
            },
        );
        Ok(())
    }

    /// Takes back one attempt counted for `key`.
    fn forgive(&self, key: &K) {
        if let Some(counted) = self.lock().get_mut(key) {
            counted.count = counted.count.saturating_sub(1);
        }
    }

    fn clear(&self, key: &K) {
        self.lock().remove(key);
    }
}

/// What a login is counted under.
pub(crate) struct LoginAttempt {
    /// The organization and e-mail address as given, trimmed and lower-cased.
    account: (String, String),
    address: Option<IpAddr>,
}

impl LoginAttempt {
    pub(crate) fn new(organization: &str, email: &str, address: Option<IpAddr>) -> Self {
        Self {
            account: (
                organization.trim().to_lowercase(),
                email.trim().to_lowercase(),
            ),
            address,
        }
    }
}

/// The failed logins this server has seen lately.
pub(crate) struct LoginLimits {
    per_account: FailureWindow<(String, String)>,
    per_address: FailureWindow<IpAddr>,
}

impl LoginLimits {
    /// At most `per_account` failures per organization and e-mail, and `per_address` per
    /// client address, within `window` (0: no limit).
    pub(crate) fn new(per_account: u32, per_address: u32, window: Duration) -> Self {
        Self {
            per_account: FailureWindow::new(per_account, window),
            per_address: FailureWindow::new(per_address, window),
        }
    }

    /// Counts the attempt as a failure until it succeeds, or says how long it must wait.
    pub(crate) fn admit(&self, attempt: &LoginAttempt) -> Result<(), Duration> {
        self.admit_at(attempt, Instant::now())
    }

    fn admit_at(&self, attempt: &LoginAttempt, now: Instant) -> Result<(), Duration> {
        self.per_account.admit(&attempt.account, now)?;
        if let Some(address) = &attempt.address
            && let Err(wait) = self.per_address.admit(address, now)
        {
            self.per_account.forgive(&attempt.account);
            return Err(wait);
        }
        Ok(())
    }

    /// The admitted attempt logged in: its failure is taken back, and the account's count
    /// cleared.
    pub(crate) fn succeeded(&self, attempt: &LoginAttempt) {
        self.per_account.clear(&attempt.account);
        if let Some(address) = &attempt.address {
            self.per_address.forgive(address);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(email: &str, address: &str) -> LoginAttempt {
        LoginAttempt::new("acme", email, Some(address.parse().expect("ip")))
    }

    #[test]
    fn an_account_is_refused_after_its_failures_until_the_window_closes() {
        let limits = LoginLimits::new(3, 100, Duration::from_secs(60));
        let start = Instant::now();
        let ada = attempt("Ada@Example.org ", "192.0.2.1");
        for second in 0..3 {
            assert_eq!(
                limits.admit_at(&ada, start + Duration::from_secs(second)),
                Ok(())
            );
        }
        let later = start + Duration::from_secs(10);
        assert_eq!(limits.admit_at(&ada, later), Err(Duration::from_secs(50)));
        // The same account written otherwise, from elsewhere: still refused.
        assert!(
            limits
                .admit_at(&attempt("ada@example.org", "198.51.100.1"), later)
                .is_err()
        );
        // Another account is not.
        assert_eq!(
            limits.admit_at(&attempt("bob@example.org", "192.0.2.1"), later),
            Ok(())
        );
        assert_eq!(
            limits.admit_at(&ada, start + Duration::from_secs(60)),
            Ok(())
        );
    }

    #[test]
    fn an_address_is_refused_after_failures_on_many_accounts() {
        let limits = LoginLimits::new(3, 5, Duration::from_secs(60));
        let now = Instant::now();
        for n in 0..5 {
            let other = attempt(&format!("user{n}@example.org"), "192.0.2.9");
            assert_eq!(limits.admit_at(&other, now), Ok(()));
        }
        let fresh = attempt("fresh@example.org", "192.0.2.9");
        assert!(limits.admit_at(&fresh, now).is_err());
        // Refused by its address, the account was not counted.
        let elsewhere = attempt("fresh@example.org", "192.0.2.10");
        for _ in 0..3 {
            assert_eq!(limits.admit_at(&elsewhere, now), Ok(()));
        }
    }

    #[test]
    fn a_success_takes_its_count_back_and_clears_the_account() {
        let limits = LoginLimits::new(5, 3, Duration::from_secs(60));
        let now = Instant::now();
        let ada = attempt("ada@example.org", "192.0.2.1");
        assert_eq!(limits.admit_at(&ada, now), Ok(()));
        assert_eq!(limits.admit_at(&ada, now), Ok(()));
        limits.succeeded(&ada);
        // One failure left on the address, none on the account: two more fit.
        assert_eq!(limits.admit_at(&ada, now), Ok(()));
        assert_eq!(limits.admit_at(&ada, now), Ok(()));
        assert!(limits.admit_at(&ada, now).is_err(), "the address");
    }

    #[test]
    fn zero_means_no_limit() {
        let limits = LoginLimits::new(0, 0, Duration::from_secs(60));
        let now = Instant::now();
        let ada = attempt("ada@example.org", "192.0.2.1");
        for _ in 0..1000 {
            assert_eq!(limits.admit_at(&ada, now), Ok(()));
        }
    }
}
