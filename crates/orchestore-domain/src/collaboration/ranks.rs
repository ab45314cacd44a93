use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::{EloSettings, LevelThresholds};
use crate::{DomainError, Participant};

/// An organization's rules for ranks: the level ladder and how ratings move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RankSettings {
    pub level_thresholds: LevelThresholds,
    pub elo: EloSettings,
}

impl Default for RankSettings {
    fn default() -> Self {
        Self {
            level_thresholds: LevelThresholds::standard(),
            elo: EloSettings::standard(),
        }
    }
}

macro_rules! word_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($(#[$vdoc:meta])* $variant:ident = $code:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$variant),*];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code),*
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::DomainError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| {
                        let all: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                        $crate::DomainError::invalid($field, format!("{s:?} is not one of {}", all.join(", ")))
                    })
            }
        }
    };
}
pub(crate) use word_enum;

word_enum!(
    /// What a leaderboard ranks by.
    LeaderboardKind, "kind" {
        /// Points awarded (in the period).
        Points = "points",
        /// The current ELO rating (all time only).
        Rating = "rating",
        /// The reputation's `overall` as of the instant read (all time only).
        Reputation = "reputation",
        /// The organization's weighted sum of points, rating and reputation, from its latest
        /// snapshot (all time only).
        Combined = "combined",
    }
);

word_enum!(
    /// The time a leaderboard covers, in UTC.
    LeaderboardPeriod, "period" {
        AllTime = "all_time",
        /// Since Monday 00:00 of the current week.
        Week = "week",
        /// Since the first of the current month, 00:00.
        Month = "month",
    }
);

impl LeaderboardPeriod {
    /// When the period that holds `as_of` began; `None` for all time.
    pub fn start(self, as_of: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let day = as_of.date_naive();
        let first = match self {
            Self::AllTime => return None,
            Self::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
            Self::Month => day.with_day(1).unwrap_or(day),
        };
        Some(Utc.from_utc_datetime(&first.and_time(NaiveTime::MIN)))
    }
}

impl LeaderboardKind {
    /// `Invalid` on `period` unless this kind is ranked over `period`: points over any, the
    /// others over all time only (a rating and a reputation are current values, not sums
    /// over a range; see the README).
    pub fn check_period(self, period: LeaderboardPeriod) -> Result<(), DomainError> {
        match (self, period) {
            (Self::Points, _) | (_, LeaderboardPeriod::AllTime) => Ok(()),
            (kind, _) => Err(DomainError::invalid(
                "period",
                format!("a {kind} leaderboard is current: only all_time applies"),
            )),
        }
    }
}

/// One row of a leaderboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LeaderboardEntry {
    /// 1 for the first; holders with the same score share a rank (1, 1, 3).
    pub rank: u32,
    pub holder: Participant,
    /// Whole for points and ratings (and written as a whole number), with decimals for a
    /// reputation or a combined score.
    #[serde(serialize_with = "whole_or_real")]
    pub score: f64,
}

/// Writes a score that is a whole number (below 2^53) as one, so that points and ratings read
/// `75`, not `75.0`.
fn whole_or_real<S: serde::Serializer>(score: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if score.fract() == 0.0 && score.abs() < EXACT {
        serializer.serialize_i64(*score as i64)
    } else {
        serializer.serialize_f64(*score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_start_on_monday_and_the_first() {
        let at = Utc.with_ymd_and_hms(2026, 11, 27, 15, 30, 0).single();
        let Some(at) = at else { return };
        assert_eq!(LeaderboardPeriod::AllTime.start(at), None);
        assert_eq!(
            LeaderboardPeriod::Week.start(at),
            Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).single()
        );
        assert_eq!(
            LeaderboardPeriod::Month.start(at),
            Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single()
        );
        assert_eq!("week".parse(), Ok(LeaderboardPeriod::Week));
        assert!("year".parse::<LeaderboardPeriod>().is_err());
    }
}
