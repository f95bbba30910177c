//! The HNSW retriever (hierarchical navigable small world graph, Malkov & Yashunin): each row is
//! linked to its near neighbours on layer 0, and a sparse sample of rows is linked again on
//! each upper layer; a query walks down from the top layer's entry row and then searches layer 0
//! best first, keeping the `ef` nearest rows it met. It reads a few thousand rows of a million,
//! through the int8 codes, and the pool is re-scored exactly as `int8` does. A category filter
//! that keeps a small part of the catalog is scanned instead (a graph walk would mostly meet rows
//! outside it).
//!
//! [`build`] inserts rows in batches: every row of a batch searches the graph as it stood before
//! the batch (in parallel, read-only), then the batch's links and the back links they add are
//! written, each overfull list pruned in parallel too. The same codes and parameters give the
//! same graph on any number of cores.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::ops::Range;

use super::int8::{Int8Rescore, OVERSAMPLE, rescore};
use super::{Retriever, Scan, cores, each_query, in_parallel};
use crate::catalog::codes::{Codes, quantize};
use crate::catalog::graph::{Graph, GraphParts, NONE};
use crate::vector::{dot_i8, top_k};

/// The graph's shape and how hard the build searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HnswParams {
    /// Links per row on the upper layers (twice this on layer 0).
    pub m: usize,
    /// Rows kept while a new row searches for its neighbours.
    pub ef_construction: usize,
    /// Draws each row's level.
    pub seed: u64,
}

impl Default for HnswParams {
    fn default() -> Self {
        HnswParams {
            m: 16,
            ef_construction: 64,
            seed: 0x4c4b_4c4b,
        }
    }
}

/// Rows kept by a search walk when the caller asks for fewer (the pool is at least this big).
pub const EF_SEARCH: usize = 128;

/// A filter that keeps less than 1 / `SCAN_BELOW` of the rows is scanned, not walked.
const SCAN_BELOW: usize = 4;

/// A batch is at most 1 / `BATCH_SHARE` of the rows already in the graph (a row does not see
/// the others of its batch, so early batches stay small) and at most `BATCH_MAX` rows.
const BATCH_SHARE: usize = 32;
const BATCH_MAX: usize = 4096;

/// A `(score, row)` pair ordered best first: higher score, then lower row.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Near(f32, u32);

impl Eq for Near {}

impl Ord for Near {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.total_cmp(&o.0).then(o.1.cmp(&self.1))
    }
}

impl PartialOrd for Near {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Rows met by one search: a bitset, cleared by the words it set.
struct Visited {
    bits: Vec<u64>,
    set: Vec<u32>,
}

impl Visited {
    fn new(rows: usize) -> Self {
        Visited {
            bits: vec![0; rows.div_ceil(64)],
            set: Vec::new(),
        }
    }

    /// Marks `r`; false when it was already marked.
    fn insert(&mut self, r: u32) -> bool {
        let (w, b) = ((r / 64) as usize, 1u64 << (r % 64));
        let word = &mut self.bits[w];
        if *word & b != 0 {
            return false;
        }
        if *word == 0 {
            self.set.push(w as u32);
        }
        *word |= b;
        true
    }

    fn clear(&mut self) {
        for w in self.set.drain(..) {
            self.bits[w as usize] = 0;
        }
    }
}

/// A graph's links, as the search walks them (the built file, or the graph being built).
trait Links: Sync {
    /// Rows of the graph (a link to a row past them is damage, and skipped).
    fn rows(&self) -> usize;
    /// Row `r`'s neighbours on layer `l` ([`NONE`] ends the list; empty when `r` is not on `l`).
    fn links(&self, l: usize, r: usize) -> &[u32];
}

impl Links for Graph {
    fn rows(&self) -> usize {
        self.rows
    }

    fn links(&self, l: usize, r: usize) -> &[u32] {
        match l {
            0 => self.level0(r),
            _ => self.upper(l, r).unwrap_or(&[]),
        }
    }
}

/// What one walk of a layer found, and the moments over every row it scored that the filter
/// keeps.
struct Walk {
    /// Best first.
    found: Vec<Near>,
    count: usize,
    sum: f64,
    sum_sq: f64,
}

/// Best-first search of layer `l` from `entries`: keeps the `ef` best rows that `keep` accepts;
/// rows it rejects are walked through but not kept (a filtered search). Rows that are not
/// rows of the graph (a damaged file) are skipped.
fn walk(
    g: &dyn Links,
    l: usize,
    entries: &[Near],
    ef: usize,
    score: &dyn Fn(usize) -> f32,
    keep: &dyn Fn(usize) -> bool,
    visited: &mut Visited,
) -> Walk {
    let rows = g.rows();
    let mut out = Walk {
        found: Vec::new(),
        count: 0,
        sum: 0.0,
        sum_sq: 0.0,
    };
    let mut near: BinaryHeap<Near> = BinaryHeap::new();
    // worst kept on top
    let mut kept: BinaryHeap<std::cmp::Reverse<Near>> = BinaryHeap::new();
    // every row scored that the filter keeps counts in the moments; the best `ef` are kept
    let admit = |n: Near, kept: &mut BinaryHeap<std::cmp::Reverse<Near>>, out: &mut Walk| {
        if keep(n.1 as usize) {
            out.count += 1;
            out.sum += f64::from(n.0);
            out.sum_sq += f64::from(n.0) * f64::from(n.0);
            if kept.len() < ef || kept.peek().is_some_and(|w| n > w.0) {
                kept.push(std::cmp::Reverse(n));
                if kept.len() > ef {
                    kept.pop();
                }
            }
        }
    };
    for &e in entries {
        if visited.insert(e.1) {
            near.push(e);
            admit(e, &mut kept, &mut out);
        }
    }
    while let Some(c) = near.pop() {
        if kept.len() >= ef && kept.peek().is_some_and(|w| c < w.0) {
            break;
        }
        for &n in g.links(l, c.1 as usize) {
            if n == NONE {
                break;
            }
            if n as usize >= rows || !visited.insert(n) {
                continue;
            }
            let s = Near(score(n as usize), n);
            if kept.len() < ef || kept.peek().is_some_and(|w| s > w.0) {
                near.push(s);
            }
            admit(s, &mut kept, &mut out);
        }
    }
    visited.clear();
    out.found = kept.into_sorted_vec().into_iter().map(|r| r.0).collect();
    out
}

/// From `cands` (best first by their score against the row being linked), the ones that are no
/// nearer to a neighbour already kept than to that row, up to `cap` (the heuristic that keeps
/// links spread in every direction, so clusters stay reachable). Ties are kept: exact
/// duplicates link to each other.
fn select(cands: &[Near], cap: usize, sim: &dyn Fn(usize, usize) -> f32) -> Vec<u32> {
    let mut kept: Vec<u32> = Vec::with_capacity(cap);
    for c in cands {
        if kept.len() == cap {
            break;
        }
        if kept.iter().all(|&r| sim(c.1 as usize, r as usize) <= c.0) {
            kept.push(c.1);
        }
    }
    kept
}

/// A row's drawn level: geometric with ratio 1/m, from a hash of the row and the seed (so it
/// does not depend on insertion order or threads).
fn level_of(row: usize, params: &HnswParams) -> usize {
    let mut z = (row as u64)
        .wrapping_add(params.seed)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // uniform in (0, 1]
    let u = ((z >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    let level = (-u.ln() / (params.m.max(2) as f64).ln()).floor() as usize;
    level.min(16)
}

/// The graph while it is built: the same layout as the file, in vectors.
struct Building {
    m: usize,
    m0: usize,
    level0: Vec<u32>,
    /// Per upper layer (index 0 = layer 1): its nodes ascending, `m` links per node.
    upper: Vec<(Vec<u32>, Vec<u32>)>,
}

impl Building {
    /// The slot of row `r`'s links on layer `l`, as a range of the layer's link words.
    fn slot(&self, l: usize, r: usize) -> Option<Range<usize>> {
        if l == 0 {
            return Some(r * self.m0..(r + 1) * self.m0);
        }
        let (nodes, _) = self.upper.get(l - 1)?;
        let s = nodes.binary_search(&(r as u32)).ok()?;
        Some(s * self.m..(s + 1) * self.m)
    }

    fn set(&mut self, l: usize, r: usize, links: &[u32]) {
        let Some(slot) = self.slot(l, r) else {
            return;
        };
        let words = match l {
            0 => &mut self.level0[slot],
            _ => &mut self.upper[l - 1].1[slot],
        };
        words.fill(NONE);
        words[..links.len()].copy_from_slice(links);
    }
}

impl Links for Building {
    fn rows(&self) -> usize {
        self.level0.len() / self.m0
    }

    fn links(&self, l: usize, r: usize) -> &[u32] {
        match (l, self.slot(l, r)) {
            (0, Some(s)) => &self.level0[s],
            (_, Some(s)) => &self.upper[l - 1].1[s],
            _ => &[],
        }
    }
}

/// Builds the HNSW graph of `codes` (the scores are the codes' approximate cosines), on every
/// core.
pub fn build(codes: &Codes, params: &HnswParams) -> Result<Graph, String> {
    let rows = codes.rows;
    if rows == 0 {
        return Err("no rows to link".into());
    }
    if rows > NONE as usize {
        return Err(format!("{rows} rows: a graph links at most {NONE}"));
    }
    let (m, m0) = (params.m.max(2), params.m.max(2) * 2);
    let levels: Vec<usize> = (0..rows).map(|r| level_of(r, params)).collect();
    let top = levels.iter().copied().max().unwrap_or(0);
    let mut g = Building {
        m,
        m0,
        level0: vec![NONE; rows * m0],
        upper: (1..=top)
            .map(|l| {
                let nodes: Vec<u32> = (0..rows as u32)
                    .filter(|&r| levels[r as usize] >= l)
                    .collect();
                let links = vec![NONE; nodes.len() * m];
                (nodes, links)
            })
            .collect(),
    };
    let dims = codes.dims;
    let (all, scales) = (codes.codes(), codes.scales());
    let sim = |a: usize, b: usize| {
        dot_i8(
            &all[a * dims..(a + 1) * dims],
            &all[b * dims..(b + 1) * dims],
        ) as f32
            * (scales[a] * scales[b])
    };
    let mut visited: Vec<Visited> = (0..cores()).map(|_| Visited::new(rows)).collect();
    let (mut entry, mut entry_level) = (0usize, levels[0]);
    let mut done = 1;
    while done < rows {
        let batch = done..rows.min(done + (done / BATCH_SHARE).clamp(1, BATCH_MAX));
        // every row of the batch finds its neighbours in the graph as it stood
        let g_ref = &g;
        let find = |q: usize, visited: &mut Visited| -> Vec<(usize, Vec<u32>)> {
            let score = |r: usize| sim(q, r);
            let everything = |_: usize| true;
            let mut eps = vec![Near(score(entry), entry as u32)];
            for l in (levels[q] + 1..=entry_level).rev() {
                let w = walk(g_ref, l, &eps, 1, &score, &everything, visited);
                eps = w.found;
            }
            let mut links = Vec::new();
            for l in (0..=levels[q].min(entry_level)).rev() {
                let w = walk(
                    g_ref,
                    l,
                    &eps,
                    params.ef_construction.max(m),
                    &score,
                    &everything,
                    visited,
                );
                // as many links as a list holds (FAISS's choice; hnswlib links m on layer 0 too):
                // a denser layer 0 is the recall a walk of a given width reaches
                let cap = if l == 0 { m0 } else { m };
                links.push((l, select(&w.found, cap, &sim)));
                eps = w.found;
            }
            links
        };
        let found: Vec<Vec<(usize, Vec<u32>)>> = in_parallel(batch.clone(), &mut visited, &find);
        // write the batch's links, then the back links they add
        let mut back: Vec<(usize, u32, u32)> = Vec::new();
        for (q, links) in batch.clone().zip(&found) {
            for (l, ns) in links {
                g.set(*l, q, ns);
                back.extend(ns.iter().map(|&n| (*l, n, q as u32)));
            }
        }
        back.sort_unstable();
        let groups: Vec<&[(usize, u32, u32)]> =
            back.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)).collect();
        let g_ref = &g;
        let relink = |i: usize, _: &mut Visited| -> Vec<u32> {
            let group = groups[i];
            let (l, t) = (group[0].0, group[0].1 as usize);
            let cap = if l == 0 { m0 } else { m };
            let mut list: Vec<u32> = g_ref
                .links(l, t)
                .iter()
                .copied()
                .take_while(|&n| n != NONE)
                .collect();
            list.extend(group.iter().map(|e| e.2));
            if list.len() <= cap {
                return list;
            }
            let mut cands: Vec<Near> = list.iter().map(|&n| Near(sim(t, n as usize), n)).collect();
            cands.sort_unstable_by(|a, b| b.cmp(a));
            select(&cands, cap, &sim)
        };
        let relinked = in_parallel(0..groups.len(), &mut visited, &relink);
        for (group, list) in groups.iter().zip(&relinked) {
            g.set(group[0].0, group[0].1 as usize, list);
        }
        for q in batch.clone() {
            if levels[q] > entry_level {
                (entry, entry_level) = (q, levels[q]);
            }
        }
        done = batch.end;
    }
    Graph::from_parts(
        GraphParts {
            rows,
            dims,
            m,
            m0,
            entry,
            level0: g.level0,
            upper: g.upper,
        },
        codes,
    )
}

/// Searches an HNSW graph through the catalog's int8 codes, re-scoring exactly.
pub struct HnswRescore<'m> {
    pub graph: &'m Graph,
    pub codes: &'m Codes,
    /// The f32 rows (row-major, `codes.dims` columns).
    pub matrix: &'m [f32],
    /// Rows kept by the walk (at least the pool of `OVERSAMPLE` x k).
    pub ef: usize,
}

impl HnswRescore<'_> {
    fn one(&self, ranges: &[Range<usize>], q: &[f32], k: usize) -> Scan {
        let g = self.graph;
        let dims = self.codes.dims;
        let pool = k.saturating_mul(OVERSAMPLE);
        if pool == 0 {
            return Scan::default();
        }
        let (qc, qs) = quantize(q);
        let (codes, scales) = (self.codes.codes(), self.codes.scales());
        let score =
            |r: usize| dot_i8(&codes[r * dims..(r + 1) * dims], &qc) as f32 * (scales[r] * qs);
        let whole = ranges.len() == 1 && ranges[0] == (0..g.rows);
        let keep = |r: usize| whole || ranges.iter().any(|x| x.contains(&r));
        let everything = |_: usize| true;
        let mut visited = Visited::new(g.rows);
        let mut eps = vec![Near(score(g.entry), g.entry as u32)];
        for l in (1..=g.upper_layers()).rev() {
            eps = walk(g, l, &eps, 1, &score, &everything, &mut visited).found;
        }
        let w = walk(g, 0, &eps, self.ef.max(pool), &score, &keep, &mut visited);
        let found = w.found.iter().map(|n| (n.1 as usize, n.0)).collect();
        let approx = Scan {
            top: top_k(found, pool),
            count: w.count,
            sum: w.sum,
            sum_sq: w.sum_sq,
        };
        rescore(approx, self.matrix, dims, q, k)
    }
}

impl Retriever for HnswRescore<'_> {
    fn name(&self) -> &'static str {
        "hnsw"
    }

    /// The moments are those of the rows the walk scored: the near part of the distribution.
    fn top_k(&self, ranges: &[Range<usize>], queries: &[&[f32]], k: usize) -> Vec<Scan> {
        let in_scope: usize = ranges.iter().map(|r| r.len()).sum();
        if in_scope.saturating_mul(SCAN_BELOW) < self.graph.rows {
            let scan = Int8Rescore {
                codes: self.codes,
                matrix: self.matrix,
            };
            return scan.top_k(ranges, queries, k);
        }
        each_query(queries, |q| self.one(ranges, q, k))
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // one range of rows is a legitimate scan
mod tests {
    use super::*;
    use crate::stages::retrieve::ExactScan;
    use crate::stages::retrieve::int8::tests::{catalog, near};

    fn graph(rows: usize, dims: usize) -> (crate::catalog::format::Matrix, Codes, Graph) {
        let m = catalog(rows, dims, 11);
        let codes = Codes::of(&m);
        let g = build(&codes, &HnswParams::default()).unwrap();
        (m, codes, g)
    }

    #[test]
    fn levels_are_geometric_and_fixed_by_the_seed() {
        let p = HnswParams::default();
        let levels: Vec<usize> = (0..100_000).map(|r| level_of(r, &p)).collect();
        let above = |l: usize| levels.iter().filter(|&&x| x >= l).count();
        // one row in 16 reaches layer 1, one in 256 layer 2
        assert!((5_500..7_000).contains(&above(1)), "{}", above(1));
        assert!((250..550).contains(&above(2)), "{}", above(2));
        assert_eq!(level_of(12345, &p), level_of(12345, &p));
        let other = HnswParams { seed: 9, ..p };
        assert_ne!(
            levels[..200],
            (0..200).map(|r| level_of(r, &other)).collect::<Vec<_>>()[..]
        );
    }

    #[test]
    fn the_built_graph_is_well_formed_and_the_same_every_time() {
        let (_, codes, g) = graph(3000, 64);
        g.check_links().unwrap();
        g.check_against(&codes).unwrap();
        assert_eq!((g.rows, g.m, g.m0), (3000, 16, 32));
        // every row has links, none to itself
        for r in 0..3000 {
            let l = g.level0(r);
            assert!(l[0] != NONE, "row {r} has no links");
        }
        let again = build(&codes, &HnswParams::default()).unwrap();
        assert_eq!(g.to_bytes(), again.to_bytes());
        let back = Graph::from_bytes(&g.to_bytes()).unwrap();
        assert_eq!(back.to_bytes(), g.to_bytes());
        assert_eq!(back.upper_layers(), g.upper_layers());
    }

    #[test]
    fn a_walk_as_wide_as_the_catalog_is_the_exact_answer_ties_included() {
        let (m, codes, g) = graph(3000, 96);
        let exact = ExactScan {
            matrix: m.data(),
            dims: m.dims,
        };
        let wide = HnswRescore {
            graph: &g,
            codes: &codes,
            matrix: m.data(),
            ef: 3000,
        };
        let mut queries: Vec<Vec<f32>> = [3usize, 10, 1500, 2999]
            .iter()
            .map(|&r| near(&m, r))
            .collect();
        queries.push(catalog(1, 96, 99).row(0).to_vec());
        let refs: Vec<&[f32]> = queries.iter().map(Vec::as_slice).collect();
        for ranges in [vec![0..3000], vec![0..100, 250..2999]] {
            let want = exact.top_k(&ranges, &refs, 10);
            let got = wide.top_k(&ranges, &refs, 10);
            for (q, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(g.top, w.top, "query {q}, ranges {ranges:?}");
                assert_eq!(g.count, w.count, "every row in range was reached");
            }
        }
        // the tied copies of row 3 all come, in row order
        let top = wide.top_k(&[0..3000], &refs[..1], 3)[0].top.clone();
        assert_eq!(top.iter().map(|t| t.0).collect::<Vec<_>>(), vec![3, 7, 300]);
    }

    #[test]
    fn a_default_walk_finds_the_row_a_query_was_made_from_and_reads_few_rows() {
        let (m, codes, g) = graph(20_000, 48);
        let hnsw = HnswRescore {
            graph: &g,
            codes: &codes,
            matrix: m.data(),
            ef: EF_SEARCH,
        };
        let exact = ExactScan {
            matrix: m.data(),
            dims: m.dims,
        };
        let mut hits = 0;
        for r in (0..20_000).step_by(997) {
            let q = near(&m, r);
            let got = hnsw.top_k(&[0..20_000], &[q.as_slice()], 10);
            assert_eq!(got[0].top[0].0, r);
            assert!(got[0].count < 20_000 / 4, "read {} rows", got[0].count);
            let want = exact.top_k(&[0..20_000], &[q.as_slice()], 10);
            hits += got[0]
                .top
                .iter()
                .filter(|t| want[0].top.contains(t))
                .count();
        }
        // random 48-d rows are the hard case; recall@10 still well above what a few thousand
        // random rows would give
        assert!(hits >= 21 * 10 * 8 / 10, "recall@10 {hits} / 210");
    }

    #[test]
    fn a_narrow_filter_is_scanned_and_a_wide_one_stays_inside_its_rows() {
        let (m, codes, g) = graph(3000, 32);
        let hnsw = HnswRescore {
            graph: &g,
            codes: &codes,
            matrix: m.data(),
            ef: EF_SEARCH,
        };
        let exact = ExactScan {
            matrix: m.data(),
            dims: m.dims,
        };
        let q = near(&m, 2100);
        // 500 rows of 3000: scanned, so exact
        let narrow = hnsw.top_k(&[2000..2500], &[q.as_slice()], 10);
        assert_eq!(
            narrow[0].top,
            exact.top_k(&[2000..2500], &[q.as_slice()], 10)[0].top
        );
        assert_eq!(narrow[0].count, 500);
        let wide = hnsw.top_k(&[0..1000, 2000..3000], &[q.as_slice()], 10);
        assert!(wide[0].top.iter().all(|t| t.0 < 1000 || t.0 >= 2000));
        assert_eq!(wide[0].top[0].0, 2100);
        assert!(hnsw.top_k(&[0..3000], &[q.as_slice()], 0)[0].top.is_empty());
    }

    #[test]
    fn damaged_or_foreign_graphs_are_refused() {
        let (m, codes, g) = graph(600, 16);
        let bytes = g.to_bytes();
        let err = |b: &[u8]| Graph::from_bytes(b).unwrap_err();
        assert!(
            err(&bytes[..bytes.len() - 4]).contains("truncated"),
            "{}",
            err(&bytes[..bytes.len() - 4])
        );
        assert!(err(&bytes[..bytes.len() - 1]).contains("truncated"));
        assert!(err(&bytes[..20]).contains("header"));
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert!(err(&bad).contains("magic"));
        let mut v2 = bytes.clone();
        v2[8] = 2;
        assert!(err(&v2).contains("version 2"));
        // a link to a row that does not exist: found by the full check, skipped by a walk
        let mut link = bytes.clone();
        let at = (16 + g.upper_layers()) * 4;
        link[at..at + 4].copy_from_slice(&5000u32.to_le_bytes());
        let damaged = Graph::from_bytes(&link).unwrap();
        assert!(
            damaged
                .check_links()
                .unwrap_err()
                .contains("row 0 links to row 5000")
        );
        let walk = HnswRescore {
            graph: &damaged,
            codes: &codes,
            matrix: m.data(),
            ef: EF_SEARCH,
        };
        let q = near(&m, 0);
        assert_eq!(walk.top_k(&[0..600], &[q.as_slice()], 5)[0].top.len(), 5);
        // a graph of other codes of the same shape
        let mut other = crate::catalog::format::Matrix::new(16);
        for r in 0..600 {
            other.push(m.row(599 - r));
        }
        let e = g.check_against(&Codes::of(&other)).unwrap_err();
        assert!(e.contains("another build"), "{e}");
        let fewer = Codes::of(&catalog(500, 16, 11));
        assert!(g.check_against(&fewer).unwrap_err().contains("600 rows"));
    }
}
