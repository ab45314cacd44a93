//! What a full-text search looks for, parsed from the user's words so that no quote or operator
//! of theirs ever reaches the database's query syntax, and how matches are marked.

use crate::DomainError;

/// The character the database puts before a matched word in a highlight: a Unicode
/// noncharacter (reserved for a program's internal use), which stored text may not contain,
/// so every one in a highlight is the database's.
pub const HIGHLIGHT_START: char = '\u{FDD0}';
/// The character the database puts after a matched word (see [`HIGHLIGHT_START`]).
pub const HIGHLIGHT_END: char = '\u{FDD1}';
/// What a matched word starts with in a highlight the API returns.
pub const MARK_OPEN: &str = "<mark>";
/// What a matched word ends with in a highlight the API returns.
pub const MARK_CLOSE: &str = "</mark>";

/// The English stop words of PostgreSQL's `english` text search configuration
/// (`tsearch_data/english.stop`): neither backend searches for them, so that a query means the
/// same on both (PostgreSQL leaves them out of its index, SQLite's FTS5 keeps them).
const STOP_WORDS: [&str; 127] = [
    "i",
    "me",
    "my",
    "myself",
    "we",
    "our",
    "ours",
    "ourselves",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "he",
    "him",
    "his",
    "himself",
    "she",
    "her",
    "hers",
    "herself",
    "it",
    "its",
    "itself",
    "they",
    "them",
    "their",
    "theirs",
    "themselves",
    "what",
    "which",
    "who",
    "whom",
    "this",
    "that",
    "these",
    "those",
    "am",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "have",
    "has",
    "had",
    "having",
    "do",
    "does",
    "did",
    "doing",
    "a",
    "an",
    "the",
    "and",
    "but",
    "if",
    "or",
    "because",
    "as",
    "until",
    "while",
    "of",
    "at",
    "by",
    "for",
    "with",
    "about",
    "against",
    "between",
    "into",
    "through",
    "during",
    "before",
    "after",
    "above",
    "below",
    "to",
    "from",
    "up",
    "down",
    "in",
    "out",
    "on",
    "off",
    "over",
    "under",
    "again",
    "further",
    "then",
    "once",
    "here",
    "there",
    "when",
    "where",
    "why",
    "how",
    "all",
    "any",
    "both",
    "each",
    "few",
    "more",
    "most",
    "other",
    "some",
    "such",
    "no",
    "nor",
    "not",
    "only",
    "own",
    "same",
    "so",
    "than",
    "too",
    "very",
    "s",
    "t",
    "can",
    "will",
    "just",
    "don",
    "should",
    "now",
];

fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// A full-text query: words that must all appear (in any order, stemmed) and phrases whose
/// words must appear together in order. Parsed from what a user typed: a word is a run of
/// letters and digits (anything else separates words), lower-cased; text in double quotes is
/// a phrase (an unclosed quote runs to the end); stop words are dropped from the words (a
/// phrase keeps them in place). Nothing else has a meaning: `-`, `*`, `OR`, `NEAR`, `:` are
/// separators or plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextQuery {
    words: Vec<String>,
    phrases: Vec<Vec<String>>,
}

impl TextQuery {
    pub const MAX_CHARS: usize = 1000;
    /// The most words and phrases a query may hold.
    pub const MAX_PARTS: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let chars = raw.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "query",
                format!(
                    "must be at most {} characters, got {chars}",
                    Self::MAX_CHARS
                ),
            ));
        }
        let mut words = Vec::new();
        let mut phrases = Vec::new();
        for (index, part) in raw.split('"').enumerate() {
            let part_words = split_words(part);
            // The odd parts are between quotes.
            if index % 2 == 1 {
                if part_words.iter().any(|word| !is_stop_word(word)) {
                    phrases.push(part_words);
                }
            } else {
                for word in part_words {
                    if !is_stop_word(&word) && !words.contains(&word) {
                        words.push(word);
                    }
                }
            }
        }
        if words.is_empty() && phrases.is_empty() {
            return Err(DomainError::invalid(
                "query",
                "has no word to search for (common words such as \"the\" are not searched)",
            ));
        }
        if words.len() + phrases.len() > Self::MAX_PARTS {
            return Err(DomainError::invalid(
                "query",
                format!("must hold at most {} words and phrases", Self::MAX_PARTS),
            ));
        }
        Ok(Self { words, phrases })
    }

    /// The words outside quotes.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The phrases, each its words in order.
    pub fn phrases(&self) -> &[Vec<String>] {
        &self.phrases
    }

    /// The query as an SQLite FTS5 `MATCH` expression: every word and phrase a quoted string
    /// (a word holds only letters and digits, so none holds a quote), joined by `AND`.
    pub fn fts5_match(&self) -> String {
        self.words
            .iter()
            .map(|word| format!("\"{word}\""))
            .chain(
                self.phrases
                    .iter()
                    .map(|phrase| format!("\"{}\"", phrase.join(" "))),
            )
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The words as one text for PostgreSQL's `plainto_tsquery` (every word required), or
    /// `None` when there are only phrases.
    pub fn plain_words(&self) -> Option<String> {
        (!self.words.is_empty()).then(|| self.words.join(" "))
    }

    /// Each phrase as a text for PostgreSQL's `phraseto_tsquery`.
    pub fn phrase_texts(&self) -> impl Iterator<Item = String> + '_ {
        self.phrases.iter().map(|phrase| phrase.join(" "))
    }
}

fn split_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// A highlight from the database made safe to show: the text HTML-escaped (`&`, `<`, `>`,
/// `"`, `'`), then each match wrapped in [`MARK_OPEN`] and [`MARK_CLOSE`]. Since the stored
/// text cannot hold the database's markers and its own `<` is escaped, every `<mark>` in the
/// result is a match and nothing else is markup.
pub fn highlighted(marked: &str) -> String {
    let mut out = String::with_capacity(marked.len() + 32);
    for c in marked.chars() {
        match c {
            HIGHLIGHT_START => out.push_str(MARK_OPEN),
            HIGHLIGHT_END => out.push_str(MARK_CLOSE),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(raw: &str) -> TextQuery {
        TextQuery::parse(raw).unwrap_or_else(|error| panic!("{raw}: {error}"))
    }

    #[test]
    fn operators_and_quotes_are_plain_text() {
        let q = query(r#"Rocket* -launch OR "the blue  moon" NEAR(x) col:y"#);
        assert_eq!(q.words(), ["rocket", "launch", "near", "x", "col", "y"]);
        assert_eq!(q.phrases(), [vec!["the", "blue", "moon"]]);
        assert_eq!(
            q.fts5_match(),
            r#""rocket" AND "launch" AND "near" AND "x" AND "col" AND "y" AND "the blue moon""#
        );
        assert_eq!(
            q.plain_words().as_deref(),
            Some("rocket launch near x col y")
        );
        assert_eq!(q.phrase_texts().collect::<Vec<_>>(), ["the blue moon"]);
    }

    #[test]
    fn an_unclosed_quote_runs_to_the_end_and_stop_words_go() {
        let q = query(r#"deploy "the rocket"#);
        assert_eq!(q.words(), ["deploy"]);
        assert_eq!(q.phrases(), [vec!["the", "rocket"]]);
        assert_eq!(query("the deploy and deploy").words(), ["deploy"]);
    }

    #[test]
    fn a_query_with_nothing_to_search_is_refused() {
        for raw in ["", "   ", "the and", r#""" "of the""#, "-*()"] {
            assert_eq!(
                TextQuery::parse(raw).unwrap_err().field(),
                Some("query"),
                "{raw:?}"
            );
        }
        assert!(TextQuery::parse(&"x".repeat(1001)).is_err());
        let many: Vec<String> = (0..33).map(|i| format!("w{i}")).collect();
        assert!(TextQuery::parse(&many.join(" ")).is_err());
    }

    #[test]
    fn highlights_escape_the_text_and_mark_the_matches() {
        let marked = format!("a <b> & {HIGHLIGHT_START}rocket{HIGHLIGHT_END}'s \"fin\"");
        assert_eq!(
            highlighted(&marked),
            "a &lt;b&gt; &amp; <mark>rocket</mark>&#39;s &quot;fin&quot;"
        );
        assert_eq!(highlighted("<mark>"), "&lt;mark&gt;");
    }
}
