//! The statements this process runs and how long they take: recorded by the connection's
//! metric callback into a bounded table keyed by the statement's text, so that the slowest are
//! known on both backends without `pg_stat_statements`.
//!
//! The text is what the driver sent — parameters are placeholders, never values — with
//! PostgreSQL's numbered placeholders written `?` and the repeats of a multi-row `VALUES` list
//! or an `IN (?, ?, …)` list folded, so that a batch of any size is one statement.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use orchestore_repo::StatementTiming;

/// The most distinct statements kept. A new statement past it takes the place of the one whose
/// longest run was the shortest, which is the least likely to be among the slowest.
const CAPACITY: usize = 512;
/// The most bytes of statement text whose counted form is remembered; past it they are
/// forgotten and normalized anew (batches of every size are each a text of their own).
const TEXT_BYTES: usize = 2 << 20;

/// A map keyed by statement text, hashed fast: every statement run is looked up here.
type ByText<V> = HashMap<Arc<str>, V, foldhash::fast::RandomState>;

#[derive(Debug, Default, Clone, Copy)]
struct Runs {
    count: u64,
    failed: u64,
    total: Duration,
    max: Duration,
}

#[derive(Debug, Default)]
struct Counts {
    /// Each text run as it was sent, and the statement it counts as: normalizing a long
    /// statement on every run cost more than the rest of the request's bookkeeping.
    counted_as: ByText<Arc<str>>,
    /// The bytes of `counted_as`'s keys.
    remembered: usize,
    runs: ByText<Runs>,
}

#[derive(Debug)]
pub(crate) struct StatementLog {
    since: DateTime<Utc>,
    counts: Mutex<Counts>,
}

impl StatementLog {
    pub(crate) fn new() -> Self {
        Self {
            since: Utc::now(),
            counts: Mutex::new(Counts::default()),
        }
    }

    /// Since when statements are recorded.
    pub(crate) fn since(&self) -> DateTime<Utc> {
        self.since
    }

    pub(crate) fn record(&self, sql: &str, elapsed: Duration, failed: bool) {
        // A poisoned lock only means a panic elsewhere while counting: the counts stay usable.
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Counts {
            counted_as,
            remembered,
            runs,
        } = &mut *counts;
        let text = match counted_as.get(sql) {
            Some(text) => Arc::clone(text),
            None => {
                if *remembered + sql.len() > TEXT_BYTES {
                    counted_as.clear();
                    *remembered = 0;
                }
                *remembered += sql.len();
                let text: Arc<str> = normalize(sql).into();
                counted_as.insert(sql.into(), Arc::clone(&text));
                text
            }
        };
        if !runs.contains_key(&text) && runs.len() >= CAPACITY {
            let least = runs
                .iter()
                .min_by_key(|(_, runs)| runs.max)
                .map(|(text, _)| Arc::clone(text));
            if let Some(least) = least {
                runs.remove(&least);
            }
        }
        let entry = runs.entry(text).or_default();
        entry.count += 1;
        entry.failed += u64::from(failed);
        entry.total += elapsed;
        entry.max = entry.max.max(elapsed);
    }

    /// The `n` statements whose longest run took longest, slowest first.
    pub(crate) fn slowest(&self, n: usize) -> Vec<StatementTiming> {
        let counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut slowest: Vec<(&Arc<str>, &Runs)> = counts.runs.iter().collect();
        slowest.sort_by(|a, b| b.1.max.cmp(&a.1.max).then_with(|| a.0.cmp(b.0)));
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        slowest
            .into_iter()
            .take(n)
            .map(|(text, runs)| StatementTiming {
                statement: text.to_string(),
                count: runs.count,
                failed: runs.failed,
                total_ms: ms(runs.total),
                mean_ms: ms(runs.total) / runs.count.max(1) as f64,
                max_ms: ms(runs.max),
            })
            .collect()
    }
}

/// The statement as it is counted: `$n` placeholders written `?`, repeated `VALUES` rows and
/// `IN` list items folded into one followed by `, ...`.
pub(crate) fn normalize(sql: &str) -> String {
    fold(&unnumbered(sql))
}

fn unnumbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// Where the item starting at byte `start` ends: a `?`, or a group in balanced parentheses.
fn item_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    match bytes[start] {
        b'?' => Some(start + 1),
        b'(' => {
            let mut depth = 0usize;
            for (offset, byte) in bytes[start..].iter().enumerate() {
                match byte {
                    b'(' => depth += 1,
                    b')' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(start + offset + 1);
                        }
                    }
                    _ => {}
                }
            }
            None
        }
        _ => None,
    }
}

fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    let mut at = 0;
    while at < text.len() {
        if let Some(end) = item_end(text, at) {
            let item = &text[at..end];
            // A lone `?` folds only as an item of an `IN` list: elsewhere it is one parameter.
            let list = item != "?" || out.ends_with("IN (") || out.ends_with("in (");
            let mut next = end;
            while list && text[next..].starts_with(", ") && text[next + 2..].starts_with(item) {
                next += 2 + item.len();
            }
            if next > end {
                out.push_str(item);
                out.push_str(", ...");
                at = next;
                continue;
            }
            if item == "?" {
                out.push('?');
                at = end;
                continue;
            }
            // A group that is not repeated: open it, and fold what it holds.
            out.push('(');
            at += 1;
            continue;
        }
        let Some(c) = text[at..].chars().next() else {
            break;
        };
        out.push(c);
        at += c.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_and_lists_of_any_size_are_one_statement() {
        assert_eq!(
            normalize(r#"INSERT INTO "t" ("a", "b") VALUES ($1, $2), ($3, $4), ($5, $6)"#),
            r#"INSERT INTO "t" ("a", "b") VALUES (?, ?), ..."#
        );
        assert_eq!(
            normalize(r#"INSERT INTO "t" ("a", "b") VALUES (?, CAST(? AS jsonb))"#),
            r#"INSERT INTO "t" ("a", "b") VALUES (?, CAST(? AS jsonb))"#
        );
        assert_eq!(
            normalize(r#"SELECT 1 FROM "t" WHERE "id" IN ($1, $2, $3) AND "x" = $4"#),
            r#"SELECT 1 FROM "t" WHERE "id" IN (?, ...) AND "x" = ?"#
        );
        assert_eq!(
            normalize(r#"SELECT 1 FROM "t" WHERE "id" IN (?) AND "x" IN (?, ?)"#),
            r#"SELECT 1 FROM "t" WHERE "id" IN (?) AND "x" IN (?, ...)"#
        );
        // Two parameters in a row elsewhere are two parameters.
        assert_eq!(normalize("SELECT f($1, $2)"), "SELECT f(?, ?)");
        assert_eq!(normalize("SELECT 'é', $$x$$"), "SELECT 'é', $$x$$");
    }

    #[test]
    fn the_record_is_bounded_and_keeps_the_slowest() {
        let log = StatementLog::new();
        log.record("SELECT $1", Duration::from_millis(5), false);
        log.record("SELECT ?", Duration::from_millis(1), true);
        for n in 0..CAPACITY + 10 {
            log.record(&format!("SELECT {n}"), Duration::from_micros(1), false);
        }
        let slowest = log.slowest(2);
        assert_eq!(slowest[0].statement, "SELECT ?");
        assert_eq!((slowest[0].count, slowest[0].failed), (2, 1));
        assert_eq!(slowest[0].max_ms, 5.0);
        assert_eq!(slowest[0].mean_ms, 3.0);
        assert_eq!(log.slowest(usize::MAX).len(), CAPACITY);
    }

    #[test]
    fn remembered_texts_stay_within_their_bytes_and_count_alike() {
        let log = StatementLog::new();
        let long = format!("SELECT {} FROM t WHERE id = $1", "x, ".repeat(1000));
        for n in 0..(TEXT_BYTES / long.len() + 50) {
            // Each run is a text of its own (another batch size), counted as one statement.
            log.record(
                &format!("{long} AND n IN ($2{})", ", $3".repeat(n)),
                Duration::ZERO,
                false,
            );
        }
        let counts = log.counts.lock().expect("not poisoned");
        assert!(counts.remembered <= TEXT_BYTES, "{}", counts.remembered);
        assert_eq!(counts.runs.len(), 2, "a list of one item and lists of more");
    }
}
