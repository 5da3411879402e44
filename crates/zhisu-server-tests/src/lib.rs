//! The server's test kit, shared by its tests and benchmarks: a seeded random-number generator,
//! synthetic interviews walked through the core's engine ([`generate`]), a real PostgreSQL
//! started from the system binaries ([`postgres`]), the repository's questionnaire folder and a
//! server on a loopback port. The storage conformance suite (`tests/conformance.rs`) runs
//! against both backends.

pub mod generate;
pub mod postgres;

use std::path::PathBuf;

/// A seeded pseudo-random generator (xorshift64): small, fast and the same on every run, for
/// generating answers and loads. Not for secrets.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// A generator from `seed` (a zero seed, which xorshift cannot leave, is replaced).
    pub fn new(seed: u64) -> Self {
        Rng(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// An index in `0..n` (0 when `n` is 0).
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with `percent` % chance.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// True with probability `p`.
    pub fn probability(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// An index drawn with the given (relative) weights.
    pub fn pick(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut u = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if u < *w {
                return i;
            }
            u -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo) as u64 + 1) as i64
    }
}

/// The repository's `questionnaires/` folder (product and test corpus at once).
pub fn questionnaires_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires")
}

/// Serves `state` on a fresh loopback port in the current tokio runtime; returns its base URL
/// (`http://127.0.0.1:PORT`).
pub async fn serve_on_loopback(state: impl Into<zhisu_server::HttpState>) -> String {
    let state: zhisu_server::HttpState = state.into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("its address"));
    tokio::spawn(zhisu_server::serve(listener, state));
    base
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn the_same_seed_gives_the_same_numbers_and_zero_is_not_stuck() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let xs: Vec<u64> = (0..100).map(|_| a.below(1000)).collect();
        let ys: Vec<u64> = (0..100).map(|_| b.below(1000)).collect();
        assert_eq!(xs, ys);
        let mut z = Rng::new(0);
        assert_ne!(z.next_u64(), 0);
        let mut r = Rng::new(3);
        for _ in 0..1000 {
            let v = r.between(-2, 2);
            assert!((-2..=2).contains(&v));
        }
        assert_eq!(Rng::new(1).below(0), 0);
        let u = Rng::new(9).unit();
        assert!((0.0..1.0).contains(&u));
        // weights pick in proportion: a zero weight is never picked
        let mut w = Rng::new(11);
        assert!((0..1000).all(|_| w.pick(&[1.0, 0.0, 2.0]) != 1));
    }
}
