//! The queue's values: a claim's size and lease, the lease token that fences a run, and the
//! backoff between attempts.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Task;
use crate::DomainError;

/// The token of one run of a task: the claim hands it out, and every heartbeat, completion or
/// failure of that run must present it. Each claim makes a new one, so a worker whose lease
/// ended (expired and claimed again, cancelled, finished) can no longer change the task.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct LeaseToken(Uuid);

impl LeaseToken {
    /// A new, random token.
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }

    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    pub const fn as_uuid(self) -> Uuid {
        self.0
    }
}

impl Default for LeaseToken {
    fn default() -> Self {
        Self::new()
    }
}

/// Only its first characters: a token is not a secret, but logs need not carry whole ones.
impl fmt::Debug for LeaseToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.simple().to_string();
        write!(f, "LeaseToken({}…)", &text[..8])
    }
}

impl fmt::Display for LeaseToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for LeaseToken {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s)
            .map(Self)
            .map_err(|_| DomainError::invalid("lease_token", "is not a lease token (a UUID)"))
    }
}

/// Reads `raw` seconds within `min..=max`, or refuses them naming `field`.
fn seconds(field: &'static str, raw: i64, min: u64, max: u64) -> Result<Duration, DomainError> {
    match u64::try_from(raw) {
        Ok(s) if (min..=max).contains(&s) => Ok(Duration::from_secs(s)),
        _ => Err(DomainError::invalid(
            field,
            format!("must be between {min} and {max} seconds"),
        )),
    }
}

/// How long a claim or a heartbeat holds a task: 1 second to 24 hours. A worker that neither
/// heartbeats nor finishes within it loses the task to the next claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LeaseDuration(Duration);

impl LeaseDuration {
    pub const MAX_SECONDS: u64 = 24 * 60 * 60;
    pub const DEFAULT_SECONDS: u64 = 300;

    pub fn parse_seconds(raw: i64) -> Result<Self, DomainError> {
        seconds("lease_seconds", raw, 1, Self::MAX_SECONDS).map(Self)
    }

    pub const fn get(self) -> Duration {
        self.0
    }
}

impl Default for LeaseDuration {
    fn default() -> Self {
        Self(Duration::from_secs(Self::DEFAULT_SECONDS))
    }
}

/// How many tasks one claim takes at most: 1 to 1,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClaimLimit(u32);

impl ClaimLimit {
    pub const MAX: u32 = 1000;

    pub fn parse(raw: i64) -> Result<Self, DomainError> {
        match u32::try_from(raw) {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(DomainError::invalid(
                "limit",
                format!("must be between 1 and {}", Self::MAX),
            )),
        }
    }

    pub const fn one() -> Self {
        Self(1)
    }

    pub const fn get(self) -> u32 {
        self.0
    }
}

/// How long a claim waits for work when there is none: 0 (answer at once) to 60 seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClaimWait(Duration);

impl ClaimWait {
    pub const MAX_SECONDS: u64 = 60;

    pub fn parse_seconds(raw: i64) -> Result<Self, DomainError> {
        seconds("wait_seconds", raw, 0, Self::MAX_SECONDS).map(Self)
    }

    pub fn parse_millis(raw: i64) -> Result<Self, DomainError> {
        match u64::try_from(raw) {
            Ok(ms) if ms <= Self::MAX_SECONDS * 1000 => Ok(Self(Duration::from_millis(ms))),
            _ => Err(DomainError::invalid(
                "wait_ms",
                format!(
                    "must be between 0 and {} milliseconds",
                    Self::MAX_SECONDS * 1000
                ),
            )),
        }
    }

    pub const fn get(self) -> Duration {
        self.0
    }
}

/// What a claim asks for: up to `limit` tasks for `agent`, each leased for `lease`, waiting up
/// to `wait` for the first one to appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimRequest {
    pub agent: crate::AgentId,
    pub limit: ClaimLimit,
    pub lease: LeaseDuration,
    pub wait: ClaimWait,
}

impl ClaimRequest {
    /// One task, the default lease, no wait.
    pub fn one(agent: crate::AgentId) -> Self {
        Self {
            agent,
            limit: ClaimLimit::one(),
            lease: LeaseDuration::default(),
            wait: ClaimWait::default(),
        }
    }
}

/// A task a claim handed out: running, with the token its worker must present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClaimedTask {
    #[serde(flatten)]
    pub task: Task,
    pub lease_token: LeaseToken,
}

/// One run to end in success: the task, the token of its lease, and what it produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub task: crate::TaskId,
    pub lease_token: LeaseToken,
    pub result: Option<crate::Payload>,
}

/// The runs one call completes: 1 to [`Completions::MAX`], each task once — a worker ends what
/// one claim handed it in one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Completions(Vec<Completion>);

impl Completions {
    /// As many as one claim hands out.
    pub const MAX: usize = ClaimLimit::MAX as usize;

    pub fn parse(completions: Vec<Completion>) -> Result<Self, DomainError> {
        if completions.is_empty() || completions.len() > Self::MAX {
            return Err(DomainError::invalid(
                "completions",
                format!(
                    "1 to {} completions in one call, got {}",
                    Self::MAX,
                    completions.len()
                ),
            ));
        }
        let mut seen = std::collections::HashSet::with_capacity(completions.len());
        if let Some(twice) = completions.iter().find(|c| !seen.insert(c.task)) {
            return Err(DomainError::invalid(
                "completions",
                format!("task {} is listed twice: a run ends once", twice.task),
            ));
        }
        Ok(Self(completions))
    }

    pub fn as_slice(&self) -> &[Completion] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<Completion> {
        self.0
    }
}

/// The wait before a failed attempt runs again: exponential in the attempts used, capped, and
/// jittered so that tasks that failed together do not all come back together.
///
/// Attempt `n` (1-based) waits `min(cap, base · 2^(n-1))`, scaled by a factor between ½ and 1
/// drawn by the caller ("equal jitter").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
}

impl Backoff {
    pub const DEFAULT: Backoff = Backoff {
        base: Duration::from_secs(1),
        cap: Duration::from_secs(60 * 60),
    };

    /// `base` at least 1 ms, `cap` at least `base`.
    pub fn new(base: Duration, cap: Duration) -> Result<Self, DomainError> {
        if base < Duration::from_millis(1) {
            return Err(DomainError::invalid(
                "backoff.base",
                "must be at least 1 ms",
            ));
        }
        if cap < base {
            return Err(DomainError::invalid(
                "backoff.cap",
                "must be at least the base",
            ));
        }
        Ok(Self { base, cap })
    }

    /// The wait after `attempts` attempts, with `jitter` in `[0, 1)` (clamped) choosing where
    /// between half and all of the exponential delay it falls.
    pub fn delay(self, attempts: u32, jitter: f64) -> Duration {
        let doublings = attempts.saturating_sub(1).min(40);
        let full = self
            .base
            .checked_mul(1u32 << doublings.min(31))
            .unwrap_or(self.cap)
            .min(self.cap);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        full.mul_f64(0.5 + jitter / 2.0)
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The queue of an organization right now: what waits, what runs, and how fast runs end. Read
/// from the tasks that are not finished and the runs that ended in the last minute, so that it
/// costs the same however many finished tasks the organization keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueueStats {
    /// Waiting on dependencies.
    pub blocked: u64,
    /// Claimable now.
    pub queued: u64,
    /// Queued with a `run_after` still ahead (scheduled, or backing off after a failure).
    pub scheduled: u64,
    pub running: u64,
    /// Running with a lease that has expired: about to go back to the queue.
    pub expired_leases: u64,
    /// The claimable tasks by the capabilities they require, most first (at most
    /// [`QueueStats::CAPABILITY_GROUPS`] groups).
    pub by_capabilities: Vec<CapabilityDepth>,
    /// When the longest-waiting claimable task was created.
    pub oldest_queued_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Runs that ended in the last minute.
    pub last_minute: Throughput,
}

impl QueueStats {
    pub const CAPABILITY_GROUPS: u64 = 50;
}

/// The queue of the whole instance right now, every organization's tasks together: what
/// `orchestore status` and the server's `/metrics` report. Counted like [`QueueStats`], from
/// the unfinished tasks only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueueDepth {
    /// Waiting on dependencies.
    pub blocked: u64,
    /// Claimable now.
    pub queued: u64,
    /// Queued with a `run_after` still ahead (scheduled, or backing off after a failure).
    pub scheduled: u64,
    pub running: u64,
    /// Running with a lease that has expired: about to go back to the queue.
    pub expired_leases: u64,
}

/// How many claimable tasks require exactly these capabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CapabilityDepth {
    pub required_capabilities: crate::Capabilities,
    pub queued: u64,
}

/// Runs that ended in a time window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Throughput {
    pub succeeded: u64,
    /// Failed for good (the dead letter); attempts that will be retried are not counted.
    pub failed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_and_wait_bounds() {
        assert_eq!(
            LeaseDuration::parse_seconds(30).map(LeaseDuration::get),
            Ok(Duration::from_secs(30))
        );
        for bad in [0, -1, 86_401] {
            let err = LeaseDuration::parse_seconds(bad).unwrap_err();
            assert_eq!(err.field(), Some("lease_seconds"));
        }
        assert_eq!(
            ClaimWait::parse_seconds(0).map(ClaimWait::get),
            Ok(Duration::ZERO)
        );
        assert_eq!(
            ClaimWait::parse_seconds(61).unwrap_err().field(),
            Some("wait_seconds")
        );
        assert_eq!(ClaimLimit::parse(0).unwrap_err().field(), Some("limit"));
        assert_eq!(ClaimLimit::parse(1000).map(ClaimLimit::get), Ok(1000));
        assert!(ClaimLimit::parse(1001).is_err());
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_within_its_jitter() {
        let backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(60)).expect("ok");
        assert_eq!(backoff.delay(1, 1.0), Duration::from_secs(2));
        assert_eq!(backoff.delay(1, 0.0), Duration::from_secs(1));
        assert_eq!(backoff.delay(3, 1.0), Duration::from_secs(8));
        assert_eq!(backoff.delay(10, 1.0), Duration::from_secs(60));
        assert_eq!(backoff.delay(u32::MAX, 0.0), Duration::from_secs(30));
        assert_eq!(backoff.delay(1, f64::NAN), Duration::from_secs(1));
        assert!(Backoff::new(Duration::from_secs(2), Duration::from_secs(1)).is_err());
    }

    #[test]
    fn completions_are_one_to_a_claim_each_task_once() {
        let one = |task: crate::TaskId| Completion {
            task,
            lease_token: LeaseToken::new(),
            result: None,
        };
        let task = crate::TaskId::new();
        assert_eq!(Completions::parse(vec![one(task)]).map(|c| c.len()), Ok(1));
        let empty = Completions::parse(Vec::new()).unwrap_err();
        assert_eq!(empty.field(), Some("completions"));
        assert!(Completions::parse(vec![one(task), one(task)]).is_err());
        let too_many = (0..=Completions::MAX)
            .map(|_| one(crate::TaskId::new()))
            .collect();
        assert!(Completions::parse(too_many).is_err());
    }

    #[test]
    fn tokens_parse_and_stay_short_in_debug() {
        let token = LeaseToken::new();
        assert_eq!(token.to_string().parse::<LeaseToken>(), Ok(token));
        assert_eq!(
            "nope".parse::<LeaseToken>().unwrap_err().field(),
            Some("lease_token")
        );
        assert!(format!("{token:?}").len() < 24);
    }
}
