//! Durable waits: a step that waits for a named signal or for a time instead of running as a
//! worker's task, and the wait rows an execution keeps for such steps.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::StepName;
use crate::{DomainError, OrganizationId, Payload, WorkflowExecutionId, WorkflowWaitId};

/// The name a signal is sent under, e.g. `approval`: 1 to 100 of `a-z`, `0-9`, `_` and `-`,
/// as a step's name. Unique among the waits of one definition, so a signal names one step.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct SignalName(String);

deserialize_by_parse!(SignalName, String, |raw| SignalName::parse(&raw));

impl SignalName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let valid = !raw.is_empty()
            && raw.len() <= Self::MAX_CHARS
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'));
        if !valid {
            return Err(DomainError::invalid(
                "signal",
                format!("{raw:?} is not a signal name (1 to 100 of a-z, 0-9, '_' and '-')"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SignalName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for SignalName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// What a waiting step waits for. Written in a step as `"wait": {"signal": "approval",
/// "timeout_seconds": 3600, "on_timeout": ["escalate"]}`, `"wait": {"sleep_seconds": 30}` or
/// `"wait": {"until": "2027-01-01T00:00:00Z"}`.
#[derive(Debug, Clone, PartialEq)]
pub enum StepWait {
    /// A signal sent to the execution under `signal`. With a timeout, the wait ends that many
    /// seconds after the step is reached if no signal came: the steps of `on_timeout` (steps
    /// that depend on this one) run and the step's other dependents are skipped; with no
    /// `on_timeout`, the execution fails. Without a timeout it waits until signalled or the
    /// execution ends. When signalled, the steps of `on_timeout` are skipped.
    Signal {
        signal: SignalName,
        timeout_seconds: Option<u32>,
        on_timeout: Vec<StepName>,
    },
    /// A time: `seconds` after the step is reached.
    Sleep { seconds: u32 },
    /// A time: the instant `at` (at once when the step is reached after it).
    Until { at: DateTime<Utc> },
}

/// The keys of a step's `wait`.
const WAIT_KEYS: [&str; 5] = [
    "signal",
    "timeout_seconds",
    "on_timeout",
    "sleep_seconds",
    "until",
];

impl StepWait {
    /// The longest timeout or sleep: a year.
    pub const MAX_SECONDS: u32 = 366 * 24 * 3600;

    /// Parses a step's `wait`; errors name the field as `wait.<key>`.
    pub fn parse(value: Value) -> Result<Self, DomainError> {
        let Value::Object(mut fields) = value else {
            return Err(DomainError::invalid("wait", "must be a JSON object"));
        };
        if let Some(key) = fields.keys().find(|key| !WAIT_KEYS.contains(&key.as_str())) {
            return Err(DomainError::invalid(
                "wait",
                format!("unknown key {key:?} (allowed: {})", WAIT_KEYS.join(", ")),
            ));
        }
        let seconds = |field: &'static str, value: Option<Value>| match value {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| (1..=Self::MAX_SECONDS).contains(n))
                .map(Some)
                .ok_or_else(|| {
                    DomainError::invalid(
                        field,
                        format!("must be a whole number from 1 to {}", Self::MAX_SECONDS),
                    )
                }),
        };
        let signal = fields.remove("signal").filter(|v| !v.is_null());
        let timeout_seconds = seconds("wait.timeout_seconds", fields.remove("timeout_seconds"))?;
        let on_timeout = fields.remove("on_timeout").filter(|v| !v.is_null());
        let sleep_seconds = seconds("wait.sleep_seconds", fields.remove("sleep_seconds"))?;
        let until = fields.remove("until").filter(|v| !v.is_null());
        match (signal, sleep_seconds, until) {
            (Some(signal), None, None) => {
                let Value::String(signal) = signal else {
                    return Err(DomainError::invalid("wait.signal", "must be a string"));
                };
                let signal = SignalName::parse(&signal).map_err(|e| {
                    DomainError::invalid("wait.signal", super::definition::error_reason(e))
                })?;
                let mut branch: Vec<StepName> = Vec::new();
                if let Some(value) = on_timeout {
                    let Value::Array(items) = value else {
                        return Err(DomainError::invalid(
                            "wait.on_timeout",
                            "must be a list of step names",
                        ));
                    };
                    for item in items {
                        let name = item
                            .as_str()
                            .ok_or_else(|| {
                                DomainError::invalid(
                                    "wait.on_timeout",
                                    "must be a list of step names",
                                )
                            })
                            .and_then(StepName::parse)
                            .map_err(|e| {
                                DomainError::invalid(
                                    "wait.on_timeout",
                                    super::definition::error_reason(e),
                                )
                            })?;
                        if !branch.contains(&name) {
                            branch.push(name);
                        }
                    }
                }
                if !branch.is_empty() && timeout_seconds.is_none() {
                    return Err(DomainError::invalid(
                        "wait.on_timeout",
                        "needs timeout_seconds: a wait without a timeout never times out",
                    ));
                }
                Ok(Self::Signal {
                    signal,
                    timeout_seconds,
                    on_timeout: branch,
                })
            }
            (None, Some(seconds), None) if timeout_seconds.is_none() && on_timeout.is_none() => {
                Ok(Self::Sleep { seconds })
            }
            (None, None, Some(until)) if timeout_seconds.is_none() && on_timeout.is_none() => {
                let at = until
                    .as_str()
                    .and_then(|raw| DateTime::parse_from_rfc3339(raw).ok())
                    .ok_or_else(|| {
                        DomainError::invalid("wait.until", "must be an RFC 3339 instant")
                    })?;
                Ok(Self::Until {
                    at: at.with_timezone(&Utc),
                })
            }
            _ => Err(DomainError::invalid(
                "wait",
                "must be one of {\"signal\", \"timeout_seconds\"?, \"on_timeout\"?}, \
                 {\"sleep_seconds\"} or {\"until\"}",
            )),
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            Self::Signal {
                signal,
                timeout_seconds,
                on_timeout,
            } => {
                let mut object = Map::new();
                object.insert("signal".into(), json!(signal.as_str()));
                if let Some(seconds) = timeout_seconds {
                    object.insert("timeout_seconds".into(), json!(seconds));
                }
                if !on_timeout.is_empty() {
                    object.insert(
                        "on_timeout".into(),
                        json!(on_timeout.iter().map(StepName::as_str).collect::<Vec<_>>()),
                    );
                }
                Value::Object(object)
            }
            Self::Sleep { seconds } => json!({ "sleep_seconds": seconds }),
            Self::Until { at } => json!({ "until": at.to_rfc3339() }),
        }
    }

    /// The `run_after` of a waiting step's task: the last day of year 9999, so that no claim
    /// ever takes it (a claim takes tasks whose `run_after` has passed).
    pub fn task_run_after() -> DateTime<Utc> {
        DateTime::<Utc>::from_naive_utc_and_offset(
            chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
                .and_then(|day| day.and_hms_opt(0, 0, 0))
                .unwrap_or_default(),
            Utc,
        )
    }

    /// The signal it waits for, if it waits for one.
    pub fn signal(&self) -> Option<&SignalName> {
        match self {
            Self::Signal { signal, .. } => Some(signal),
            _ => None,
        }
    }

    /// When a wait reached at `reached` ends by itself: its timeout or its time; `None` for a
    /// signal without a timeout.
    pub fn deadline(&self, reached: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let after = |seconds: u32| reached + chrono::Duration::seconds(i64::from(seconds));
        match self {
            Self::Signal {
                timeout_seconds, ..
            } => timeout_seconds.map(after),
            Self::Sleep { seconds } => Some(after(*seconds)),
            Self::Until { at } => Some((*at).max(reached)),
        }
    }
}

/// Where a durable wait is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaitStatus {
    /// Its step has not been reached: a step it depends on has not succeeded yet.
    Pending,
    /// Its step is reached and waits (`deadline` says until when, if it times out).
    Waiting,
    /// A signal came: the step succeeded with its payload.
    Signalled,
    /// No signal came before the deadline: the timeout branch runs, or the execution failed.
    TimedOut,
    /// Its time came: the step succeeded.
    Elapsed,
    /// The execution ended before the wait did.
    Closed,
}

impl WaitStatus {
    pub const ALL: [WaitStatus; 6] = [
        Self::Pending,
        Self::Waiting,
        Self::Signalled,
        Self::TimedOut,
        Self::Elapsed,
        Self::Closed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Waiting => "waiting",
            Self::Signalled => "signalled",
            Self::TimedOut => "timed_out",
            Self::Elapsed => "elapsed",
            Self::Closed => "closed",
        }
    }

    /// Pending and waiting are open; the others are final.
    pub const fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Waiting)
    }
}

impl fmt::Display for WaitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WaitStatus {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "status",
                    format!(
                        "{s:?} is not one of pending, waiting, signalled, timed_out, elapsed, \
                         closed"
                    ),
                )
            })
    }
}

/// The durable wait of one waiting step of one execution, written when the execution starts.
/// `signal` is `None` for a wait for a time. `deadline` is set when the step is reached and
/// the wait ends by itself; `payload` is the signal's once signalled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkflowWait {
    pub id: WorkflowWaitId,
    pub organization_id: OrganizationId,
    pub execution_id: WorkflowExecutionId,
    pub step: StepName,
    pub signal: Option<SignalName>,
    pub status: WaitStatus,
    pub deadline: Option<DateTime<Utc>>,
    pub payload: Option<Payload>,
    pub reached_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_parse_and_print_back() {
        for raw in [
            json!({"signal": "approval"}),
            json!({"signal": "approval", "timeout_seconds": 60, "on_timeout": ["escalate"]}),
            json!({"sleep_seconds": 5}),
            json!({"until": "2027-01-01T00:00:00+00:00"}),
        ] {
            let wait = StepWait::parse(raw.clone()).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(wait.to_value(), raw);
        }
    }

    #[test]
    fn bad_waits_name_the_fault() {
        for (raw, field) in [
            (json!("approval"), "wait"),
            (json!({"signal": "A"}), "wait.signal"),
            (json!({"signal": "a", "sleep_seconds": 1}), "wait"),
            (json!({"sleep_seconds": 0}), "wait.sleep_seconds"),
            (json!({"sleep_seconds": 1, "timeout_seconds": 1}), "wait"),
            (
                json!({"signal": "a", "on_timeout": ["b"]}),
                "wait.on_timeout",
            ),
            (json!({"until": "tomorrow"}), "wait.until"),
            (json!({"signals": "a"}), "wait"),
        ] {
            let error = StepWait::parse(raw.clone()).expect_err("refused");
            assert_eq!(error.field(), Some(field), "{raw}: {error}");
        }
    }

    #[test]
    fn deadlines_count_from_the_moment_reached() {
        let reached = Utc::now();
        let signal = StepWait::parse(json!({"signal": "a"})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(signal.deadline(reached), None);
        let sleep = StepWait::parse(json!({"sleep_seconds": 5})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            sleep.deadline(reached),
            Some(reached + chrono::Duration::seconds(5))
        );
        let past = StepWait::Until {
            at: reached - chrono::Duration::days(1),
        };
        assert_eq!(past.deadline(reached), Some(reached));
    }

    #[test]
    fn statuses_round_trip() {
        for status in WaitStatus::ALL {
            assert_eq!(status.as_str().parse::<WaitStatus>().ok(), Some(status));
        }
        assert!(WaitStatus::Waiting.is_open() && !WaitStatus::Closed.is_open());
    }
}
