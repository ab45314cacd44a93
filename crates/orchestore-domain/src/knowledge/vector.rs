//! Vectors and the arithmetic of their search: exact cosine similarity, the best `k` kept in
//! bounded memory, and reciprocal rank fusion of two rankings.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// A vector a client computed: 1 to [`crate::Dimension::MAX`] finite `f32` numbers, not all
/// zero (cosine similarity is undefined for the zero vector). Stored as little-endian `f32`
/// bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding(Vec<f32>);

impl Embedding {
    /// `values` as `f32`, checked. `field` names the input at fault.
    pub fn parse(field: &'static str, values: &[f64]) -> Result<Self, DomainError> {
        if values.is_empty() || values.len() > usize::from(crate::Dimension::MAX) {
            return Err(DomainError::invalid(
                field,
                format!(
                    "must hold 1 to {} numbers, got {}",
                    crate::Dimension::MAX,
                    values.len()
                ),
            ));
        }
        let mut vector = Vec::with_capacity(values.len());
        for (index, value) in values.iter().enumerate() {
            // The narrowing is the point: vectors are kept and compared as f32.
            #[allow(clippy::cast_possible_truncation)]
            let narrowed = *value as f32;
            if !narrowed.is_finite() {
                return Err(DomainError::invalid(
                    field,
                    format!("number {index} is not a finite 32-bit float"),
                ));
            }
            vector.push(narrowed);
        }
        if vector.iter().all(|value| *value == 0.0) {
            return Err(DomainError::invalid(
                field,
                "must not be the zero vector (it has no direction to compare)",
            ));
        }
        Ok(Self(vector))
    }

    /// Decodes stored bytes; `None` when they are not a valid embedding.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
            return None;
        }
        let values: Vec<f64> = bytes
            .chunks_exact(4)
            .map(|chunk| f64::from(f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])))
            .collect();
        Self::parse("embedding", &values).ok()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.0
            .iter()
            .flat_map(|value| value.to_le_bytes())
            .collect()
    }

    pub fn dimension(&self) -> usize {
        self.0.len()
    }

    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }
}

/// The cosine of the angle between two vectors of the same dimension, computed in `f64`:
/// 1 for the same direction, 0 for orthogonal, -1 for opposite. `None` when the dimensions
/// differ or either is the zero vector.
pub fn cosine_similarity(a: &[f32], b: &[f32]) -> Option<f64> {
    if a.len() != b.len() {
        return None;
    }
    let (mut dot, mut norm_a, mut norm_b) = (0.0_f64, 0.0_f64, 0.0_f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        norm_a += x * x;
        norm_b += y * y;
    }
    if norm_a == 0.0 || norm_b == 0.0 {
        return None;
    }
    Some(dot / (norm_a.sqrt() * norm_b.sqrt()))
}

/// How many results a search returns: 1 to [`SearchLimit::MAX`] (default 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchLimit(usize);

impl SearchLimit {
    pub const MAX: usize = 100;
    pub const DEFAULT: usize = 10;

    pub fn parse(raw: u64) -> Result<Self, DomainError> {
        match usize::try_from(raw) {
            Ok(value) if (1..=Self::MAX).contains(&value) => Ok(Self(value)),
            _ => Err(DomainError::invalid(
                "limit",
                format!("must be between 1 and {}", Self::MAX),
            )),
        }
    }

    pub const fn get(self) -> usize {
        self.0
    }
}

impl Default for SearchLimit {
    fn default() -> Self {
        Self(Self::DEFAULT)
    }
}

/// A scored id; greater is better: a higher score, then the smaller id (so ties resolve the
/// same way every time).
#[derive(Debug, Clone, Copy)]
struct Scored<I> {
    score: f64,
    id: I,
}

impl<I: Ord> Ord for Scored<I> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.id.cmp(&self.id))
    }
}

impl<I: Ord> PartialOrd for Scored<I> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<I: Ord> PartialEq for Scored<I> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<I: Ord> Eq for Scored<I> {}

/// The `k` best scores seen, in memory for `k` of them however many are offered.
#[derive(Debug)]
pub struct TopK<I> {
    k: usize,
    /// The worst kept on top, to be pushed out by a better one.
    heap: BinaryHeap<Reverse<Scored<I>>>,
}

impl<I: Ord + Copy> TopK<I> {
    pub fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    pub fn offer(&mut self, id: I, score: f64) {
        let scored = Scored { score, id };
        if self.heap.len() < self.k {
            self.heap.push(Reverse(scored));
        } else if self
            .heap
            .peek()
            .is_some_and(|Reverse(worst)| scored > *worst)
        {
            self.heap.pop();
            self.heap.push(Reverse(scored));
        }
    }

    /// The ids kept, best first, with their scores.
    pub fn into_sorted(self) -> Vec<(I, f64)> {
        let mut kept: Vec<Scored<I>> = self.heap.into_iter().map(|Reverse(s)| s).collect();
        kept.sort_by(|a, b| b.cmp(a));
        kept.into_iter().map(|s| (s.id, s.score)).collect()
    }
}

/// The constant of reciprocal rank fusion: a result at rank `r` (from 1) of a method adds
/// `1 / (RRF_K + r)` to its score. 60 is the value of Cormack, Clarke and Büttcher (2009).
pub const RRF_K: f64 = 60.0;

/// One result of a fusion: its score and its rank in each method (from 1), `None` where that
/// method did not return it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Fused<I> {
    pub id: I,
    pub score: f64,
    pub text_rank: Option<u32>,
    pub vector_rank: Option<u32>,
}

/// Reciprocal rank fusion of a text ranking and a vector ranking (each best first): every id
/// of either, by the sum of `1 / (RRF_K + rank)` over the methods that returned it, best
/// first; equal scores go by id.
pub fn reciprocal_rank_fusion<I: Ord + Copy + Hash>(text: &[I], vector: &[I]) -> Vec<Fused<I>> {
    let mut fused: HashMap<I, Fused<I>> = HashMap::new();
    let mut add = |ids: &[I], text_method: bool| {
        for (index, id) in ids.iter().enumerate() {
            let rank = u32::try_from(index + 1).unwrap_or(u32::MAX);
            let entry = fused.entry(*id).or_insert(Fused {
                id: *id,
                score: 0.0,
                text_rank: None,
                vector_rank: None,
            });
            entry.score += 1.0 / (RRF_K + f64::from(rank));
            if text_method {
                entry.text_rank = Some(rank);
            } else {
                entry.vector_rank = Some(rank);
            }
        }
    };
    add(text, true);
    add(vector, false);
    let mut fused: Vec<Fused<I>> = fused.into_values().collect();
    fused.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    fused
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_checked_and_round_trip_as_bytes() {
        let e = Embedding::parse("vector", &[1.0, -0.5, 0.25]).expect("embedding");
        assert_eq!(e.dimension(), 3);
        assert_eq!(Embedding::from_bytes(&e.to_bytes()), Some(e));
        assert!(Embedding::parse("vector", &[]).is_err());
        assert!(Embedding::parse("vector", &[0.0, 0.0]).is_err());
        assert!(Embedding::parse("vector", &[f64::NAN]).is_err());
        assert!(Embedding::parse("vector", &[1e300]).is_err());
        assert_eq!(Embedding::from_bytes(&[0, 0, 0]), None);
    }

    #[test]
    fn cosine_orders_by_angle() {
        let q = [1.0_f32, 0.0];
        let same = cosine_similarity(&q, &[2.0, 0.0]).unwrap_or_default();
        let diagonal = cosine_similarity(&q, &[1.0, 1.0]).unwrap_or_default();
        let opposite = cosine_similarity(&q, &[-1.0, 0.0]).unwrap_or_default();
        assert!((same - 1.0).abs() < 1e-12);
        assert!((diagonal - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-7);
        assert!((opposite + 1.0).abs() < 1e-12);
        assert_eq!(cosine_similarity(&q, &[1.0]), None);
    }

    #[test]
    fn top_k_keeps_the_best_and_breaks_ties_by_id() {
        let mut top = TopK::new(3);
        for (id, score) in [(5, 0.1), (1, 0.9), (4, 0.5), (2, 0.5), (3, 0.7), (6, 0.5)] {
            top.offer(id, score);
        }
        assert_eq!(top.into_sorted(), vec![(1, 0.9), (3, 0.7), (2, 0.5)]);
        assert!(TopK::<u8>::new(0).into_sorted().is_empty());
    }

    #[test]
    fn fusion_adds_reciprocal_ranks() {
        // a, first and third: 1/61 + 1/63 = 0.032266; b, second in both: 2/62 = 0.032258;
        // d, first of one: 1/61; c, third of one: 1/63.
        let fused = reciprocal_rank_fusion(&['a', 'b', 'c'], &['d', 'b', 'a']);
        let order: Vec<char> = fused.iter().map(|f| f.id).collect();
        assert_eq!(order, ['a', 'b', 'd', 'c']);
        assert_eq!(fused[0].text_rank, Some(1));
        assert_eq!(fused[0].vector_rank, Some(3));
        assert_eq!(fused[3].vector_rank, None);
        assert!((fused[1].score - 2.0 / 62.0).abs() < 1e-12);
        // d and x tie at 1/61 and go by id; c has 1/62.
        let fused = reciprocal_rank_fusion(&['x', 'c'], &['d']);
        assert_eq!(
            fused.iter().map(|f| f.id).collect::<Vec<_>>(),
            ['d', 'x', 'c']
        );
    }
}
