//! The seeded pseudo-random generator every test, benchmark and fault schedule uses: the same
//! numbers for the same seed on every machine, so a failing run can be replayed from its seed.
//! Not for secrets (the server's tokens come from the operating system). Beside it, [`toml`]: the
//! pieces the benchmarks write their synthetic questionnaires with.
#![forbid(unsafe_code)]

pub mod toml;

/// xorshift64* with a splitmix64-mixed seed (nearby seeds, such as clock readings, start far
/// apart; no seed gets stuck at zero).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)).max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// An index in `0..n` (0 when `n` is 0).
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below(hi.abs_diff(lo) + 1) as i64
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with `percent` % chance.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// True once in `n` times on average.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
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

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.index(i + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn the_same_seed_gives_the_same_numbers_and_no_seed_is_stuck() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let xs: Vec<u64> = (0..100).map(|_| a.below(1000)).collect();
        let ys: Vec<u64> = (0..100).map(|_| b.below(1000)).collect();
        assert_eq!(xs, ys);
        assert_ne!(Rng::new(0).next_u64(), 0);
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
        assert_eq!(Rng::new(1).below(0), 0);
    }

    #[test]
    fn draws_stay_in_their_ranges_and_weights_are_followed() {
        let mut r = Rng::new(3);
        for _ in 0..1000 {
            assert!((-2..=2).contains(&r.between(-2, 2)));
            assert!((0.0..1.0).contains(&r.unit()));
            assert!(r.index(5) < 5);
            assert_ne!(r.pick(&[1.0, 0.0, 2.0]), 1, "a zero weight is never picked");
        }
        let heads = (0..10_000).filter(|_| r.chance(30)).count();
        assert!((2_500..3_500).contains(&heads), "{heads}");
        let mut items: Vec<u32> = (0..50).collect();
        r.shuffle(&mut items);
        let mut sorted = items.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(items, sorted);
    }
}
