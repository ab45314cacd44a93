//! Sign-ups per client address, in the server's memory: an unauthenticated request that
//! creates an organization must not be repeatable by a script thousands of times.
//!
//! Each client address may attempt `max` sign-ups within a window that opens at its first;
//! past that, sign-ups from it are refused until the window closes, before any bcrypt work.
//! An attempt counts once its input is valid, whether it then succeeds or is refused (a taken
//! slug): both cost a password hash. As with login limits, each replica counts its own share.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::login_limits::FailureWindow;

pub(crate) struct SignupLimits {
    per_address: FailureWindow<IpAddr>,
}

impl SignupLimits {
    /// At most `per_address` sign-ups per client address within `window` (0: no limit).
    pub(crate) fn new(per_address: u32, window: Duration) -> Self {
        Self {
            per_address: FailureWindow::new(per_address, window),
        }
    }

    /// Counts a sign-up from `address`, or says how long it must wait. A request with no
    /// known address is not limited.
    pub(crate) fn admit(&self, address: Option<IpAddr>) -> Result<(), Duration> {
        self.admit_at(address, Instant::now())
    }

    fn admit_at(&self, address: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        match address {
            Some(address) => self.per_address.admit(&address, now),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_may_sign_up_so_often_per_window() {
        let limits = SignupLimits::new(2, Duration::from_secs(3600));
        let start = Instant::now();
        let here = Some("192.0.2.1".parse().expect("ip"));
        let there = Some("192.0.2.2".parse().expect("ip"));
        assert_eq!(limits.admit_at(here, start), Ok(()));
        assert_eq!(limits.admit_at(here, start), Ok(()));
        let later = start + Duration::from_secs(600);
        assert_eq!(limits.admit_at(here, later), Err(Duration::from_secs(3000)));
        assert_eq!(limits.admit_at(there, later), Ok(()));
        assert_eq!(limits.admit_at(None, later), Ok(()));
        assert_eq!(
            limits.admit_at(here, start + Duration::from_secs(3600)),
            Ok(())
        );
    }
}
