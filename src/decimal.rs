//! Decimal text of `f64` values, byte for byte what `format!` prints, without its float code.
//!
//! In `core::fmt`, `{:.N}`, `{:.Ne}`, `{}` and `{:e}` of a float link Grisu, Dragon4, their
//! big-number arithmetic and tables (~22 KiB of a release binary; issue 13), where pingr prints a
//! few loss percentages, seconds and milliseconds. Each value is taken apart into its exact binary
//! value and its digits are generated with exact integer arithmetic (Steele & White / Burger &
//! Dybvig, the algorithm Dragon4 and core's fallback use), so rounding is the same as core's:
//! correct, ties to even in the fixed-precision forms, shortest round-tripping digits in `{}` /
//! `{:e}`. Pure and a leaf: no I/O, no `crate::` uses; the tests compare every form with `format!`
//! over many values.

use std::cmp::Ordering;

/// 40 base-2^32 limbs (1280 bits) hold every value the digit loops make: at most an
/// `f64`'s 2^1024 times a few powers of ten, or 10^324 times a 53-bit mantissa.
const LIMBS: usize = 40;

/// An unsigned big integer, least significant limb first; limbs from `n` on are zero.
#[derive(Clone, Copy)]
struct Big {
    d: [u32; LIMBS],
    n: usize,
}

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut b = Big {
            d: [0; LIMBS],
            n: 2,
        };
        b.d[0] = v as u32;
        b.d[1] = (v >> 32) as u32;
        b.trim();
        b
    }

    /// The limbs in use (`n <= LIMBS` always; `get` spares a panic path per use).
    fn limbs(&self) -> &[u32] {
        self.d.get(..self.n).unwrap_or_default()
    }

    /// Appends a limb (there is always room, see `LIMBS`).
    fn push(&mut self, limb: u32) {
        if let Some(x) = self.d.get_mut(self.n) {
            *x = limb;
            self.n += 1;
        }
    }

    fn trim(&mut self) {
        while self.limbs().last() == Some(&0) {
            self.n -= 1;
        }
    }

    fn mul_small(&mut self, m: u32) -> &mut Big {
        let mut carry = 0u64;
        for x in self.d.get_mut(..self.n).unwrap_or_default() {
            let t = u64::from(*x) * u64::from(m) + carry;
            *x = t as u32;
            carry = t >> 32;
        }
        if carry > 0 {
            self.push(carry as u32);
        }
        self
    }

    fn mul_pow10(&mut self, mut k: u32) {
        while k >= 9 {
            self.mul_small(1_000_000_000);
            k -= 9;
        }
        self.mul_small(10u32.pow(k));
    }

    /// `self * 2^bits`, as multiplications by 2^31 (cold: a few dozen at most).
    fn shl(&mut self, mut bits: u32) -> &mut Big {
        while bits >= 31 {
            self.mul_small(1 << 31);
            bits -= 31;
        }
        self.mul_small(1 << bits)
    }

    fn add(&mut self, o: &Big) -> &mut Big {
        let n = self.n.max(o.n).min(LIMBS);
        let mut carry = 0u64;
        for (x, y) in self.d.iter_mut().zip(&o.d).take(n) {
            let t = u64::from(*x) + u64::from(*y) + carry;
            *x = t as u32;
            carry = t >> 32;
        }
        self.n = n;
        if carry > 0 {
            self.push(1);
        }
        self
    }

    /// `self - o`, for `self >= o`.
    fn sub(&mut self, o: &Big) {
        let mut borrow = false;
        for (x, y) in self.d.iter_mut().zip(&o.d).take(self.n) {
            let (v, b1) = x.overflowing_sub(*y);
            let (v, b2) = v.overflowing_sub(u32::from(borrow));
            *x = v;
            borrow = b1 || b2;
        }
        self.trim();
    }

    fn cmp(&self, o: &Big) -> Ordering {
        self.n
            .cmp(&o.n)
            .then_with(|| self.limbs().iter().rev().cmp(o.limbs().iter().rev()))
    }

    /// The next decimal digit of `self / s` (< 10 when `self < s`): `self` becomes
    /// `10 self mod s`.
    fn next_digit(&mut self, s: &Big) -> u8 {
        self.mul_small(10);
        let mut d = 0;
        while self.cmp(s) != Ordering::Less {
            self.sub(s);
            d += 1;
        }
        d
    }
}

/// A finite `x`'s magnitude as `mant * 2^exp`, and whether its lower neighbour is half as
/// far away as its upper one (the mantissa is the smallest of its binade).
fn decode(x: f64) -> (u64, i32, bool) {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    if biased == 0 {
        (frac, -1074, false)
    } else {
        (frac | 1 << 52, biased - 1075, frac == 0 && biased > 1)
    }
}

/// `r / s == mant * 2^exp`.
fn ratio(mant: u64, exp: i32) -> (Big, Big) {
    let (mut r, mut s) = (Big::from_u64(mant), Big::from_u64(1));
    if exp >= 0 {
        r.shl(exp.unsigned_abs());
    } else {
        s.shl(exp.unsigned_abs());
    }
    (r, s)
}

/// About `ceil(log10(mant * 2^exp))`, off by at most one either way (the callers correct it).
fn estimate(mant: u64, exp: i32) -> i32 {
    let bits = i64::from(64 - mant.leading_zeros()) + i64::from(exp);
    // 78913 / 2^18 is log10(2) rounded up.
    ((bits * 78913 + (1 << 18) - 1) >> 18) as i32
}

/// Divides `s` (k >= 0) or multiplies each of `rs` (k < 0) by 10^|k|.
fn scale(k: i32, s: &mut Big, rs: &mut [&mut Big]) {
    if k >= 0 {
        s.mul_pow10(k.unsigned_abs());
    } else {
        for r in rs {
            r.mul_pow10(k.unsigned_abs());
        }
    }
}

/// Whether `h` reaches `s` (`>`, or `>=` when `inclusive`).
fn reaches(h: &Big, s: &Big, inclusive: bool) -> bool {
    match h.cmp(s) {
        Ordering::Greater => true,
        Ordering::Equal => inclusive,
        Ordering::Less => false,
    }
}

/// Digits `d` and exponent `k` of `x` (finite, > 0), `x ~ 0.d1 d2 ... * 10^k`: `count(k)`
/// digits (`k + p` when `fixed_point`, else `p`), the last rounded to nearest, ties to even (none when `count(k) < 0`; when it is
/// 0, the value rounds to `0.1 * 10^k` or to zero, and a tie rounds to zero). A carry out of
/// the first digit gives `1 0 0 ...` (as many digits) and `k + 1`.
fn exact_digits(x: f64, fixed_point: bool, p: i32) -> (Vec<u8>, i32) {
    let (mant, exp, _) = decode(x);
    let (mut r, mut s) = ratio(mant, exp);
    let mut k = estimate(mant, exp);
    scale(k, &mut s, &mut [&mut r]);
    // Now r / s = x / 10^k; bring it into [0.1, 1).
    while r.cmp(&s) != Ordering::Less {
        s.mul_small(10);
        k += 1;
    }
    while Big::clone(&r).mul_small(10).cmp(&s) == Ordering::Less {
        r.mul_small(10);
        k -= 1;
    }
    let n = if fixed_point { k.saturating_add(p) } else { p };
    let mut digits = Vec::with_capacity(n.max(1) as usize);
    if n < 0 {
        return (digits, k);
    }
    for _ in 0..n {
        digits.push(r.next_digit(&s));
    }
    let up = match r.mul_small(2).cmp(&s) {
        Ordering::Greater => true,
        Ordering::Equal => digits.last().is_some_and(|d| d % 2 == 1),
        Ordering::Less => false,
    };
    if up {
        // Add one to the last digit: trailing 9s become 0, the digit before them goes up.
        let mut carry = true;
        for d in digits.iter_mut().rev() {
            if *d < 9 {
                *d += 1;
                carry = false;
                break;
            }
            *d = 0;
        }
        if carry {
            match digits.first_mut() {
                Some(first) => *first = 1,
                None => digits.push(1),
            }
            k += 1;
        }
    }
    (digits, k)
}

/// The shortest digits that read back as `x` (finite, >= 0), the nearest to `x` among them,
/// and their exponent `k`: `x ~ 0.d1 d2 ... * 10^k` (Burger & Dybvig's free-format
/// algorithm; its bounds are inclusive when the mantissa is even, as the reader rounds ties
/// to even). Zero is the one digit 0.
fn shortest_digits(x: f64) -> (Vec<u8>, i32) {
    if x == 0.0 {
        return (vec![0], 1);
    }
    let (mant, exp, closer_below) = decode(x);
    let even = mant % 2 == 0;
    // r / s = x; plus / s and minus / s are the half-gaps to the neighbours.
    let (mut r, mut s) = ratio(mant, exp);
    let mut plus = Big::from_u64(1);
    plus.shl(exp.max(0).unsigned_abs());
    let mut minus = plus;
    r.shl(1);
    s.shl(1);
    if closer_below {
        r.shl(1);
        s.shl(1);
        plus.shl(1);
    }
    let mut k = estimate(mant, exp);
    scale(k, &mut s, &mut [&mut r, &mut plus, &mut minus]);
    // The smallest k whose 10^k the upper bound (r + plus) / s does not reach: then the
    // first digit is not 0, or it is the 1 of 10^(k-1) itself.
    while reaches(Big::clone(&r).add(&plus), &s, even) {
        s.mul_small(10);
        k += 1;
    }
    while !reaches(Big::clone(&r).add(&plus).mul_small(10), &s, even) {
        r.mul_small(10);
        plus.mul_small(10);
        minus.mul_small(10);
        k -= 1;
    }
    let mut digits = Vec::with_capacity(17);
    loop {
        let d = r.next_digit(&s);
        plus.mul_small(10);
        minus.mul_small(10);
        let low = match r.cmp(&minus) {
            Ordering::Less => true,
            Ordering::Equal => even,
            Ordering::Greater => false,
        };
        let high = reaches(Big::clone(&r).add(&plus), &s, even);
        if !low && !high {
            digits.push(d);
            continue;
        }
        let up = high && (!low || Big::clone(&r).mul_small(2).cmp(&s) != Ordering::Less);
        digits.push(d + u8::from(up));
        return (digits, k);
    }
}

/// The forms of [`render`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `{:.N}`.
    Fixed(usize),
    /// `{:.Ne}`, or C's `%.Ne` (a signed exponent of at least two digits) when `c` is set.
    Exp(usize, bool),
    /// `{}`.
    Shortest,
    /// `{:e}`.
    ShortestExp,
}

fn digit(digits: &[u8], i: i32) -> char {
    let d = usize::try_from(i).ok().and_then(|i| digits.get(i));
    char::from(b'0' + d.copied().unwrap_or(0))
}

/// `d1.d2d3...e<k-1>` (no point with one digit); `c`: C's exponent, `e+05`.
fn exponential(digits: &[u8], k: i32, c: bool, out: &mut String) {
    for (i, d) in digits.iter().enumerate() {
        if i == 1 {
            out.push('.');
        }
        out.push(char::from(b'0' + d));
    }
    out.push('e');
    let e = k - 1;
    if e < 0 {
        out.push('-');
    } else if c {
        out.push('+');
    }
    // |e| <= 324: at most three digits.
    let a = e.unsigned_abs();
    let digit = |v: u32| char::from(b'0' + (v % 10) as u8);
    if a >= 100 {
        out.push(digit(a / 100));
    }
    if a >= 10 || c {
        out.push(digit(a / 10));
    }
    out.push(digit(a));
}

/// `x` as `format!` writes it in `form`: `-` before negative values and -0, `NaN` and `inf`
/// as such, then the digits of a finite `|x|`.
fn render(x: f64, form: Form, out: &mut String) {
    if x.is_nan() {
        out.push_str("NaN");
        return;
    }
    if x.is_sign_negative() {
        out.push('-');
    }
    if x.is_infinite() {
        out.push_str("inf");
        return;
    }
    let x = x.abs();
    match form {
        Form::Fixed(prec) => {
            let p = i32::try_from(prec).unwrap_or(i32::MAX);
            let (digits, k) = if x == 0.0 {
                (Vec::new(), 0)
            } else {
                exact_digits(x, true, p)
            };
            // The whole part (one 0, at index k - 1, when it has no digit), the point,
            // then p decimals: one loop over digit indices.
            for i in (if k <= 0 { k - 1 } else { 0 })..k.saturating_add(p) {
                if i == k {
                    out.push('.');
                }
                out.push(digit(&digits, i));
            }
        }
        Form::Exp(prec, c) => {
            let n = i32::try_from(prec).unwrap_or(i32::MAX - 1) + 1;
            let (digits, k) = if x == 0.0 {
                (vec![0; n as usize], 1)
            } else {
                exact_digits(x, false, n)
            };
            exponential(&digits, k, c, out);
        }
        Form::Shortest | Form::ShortestExp => {
            let (digits, k) = shortest_digits(x);
            if form == Form::ShortestExp {
                exponential(&digits, k, false, out);
            } else {
                if k <= 0 {
                    out.push_str("0.");
                    for _ in k..0 {
                        out.push('0');
                    }
                }
                for i in 0..(digits.len() as i32).max(k) {
                    if i == k && k > 0 {
                        out.push('.');
                    }
                    out.push(digit(&digits, i));
                }
            }
        }
    }
}

/// Appends `format!("{x:.prec$}")`.
pub fn push_fixed(out: &mut String, x: f64, prec: usize) {
    render(x, Form::Fixed(prec), out);
}

/// `format!("{x:.prec$}")`.
pub fn fixed(x: f64, prec: usize) -> String {
    let mut out = String::new();
    push_fixed(&mut out, x, prec);
    out
}

/// Appends `format!("{x:.prec$e}")`, or with `c` C's `printf("%.*e", prec, x)` (`1.235e+06`).
pub fn push_exp(out: &mut String, x: f64, prec: usize, c: bool) {
    render(x, Form::Exp(prec, c), out);
}

/// Appends `format!("{x}")`: the shortest digits that read back as `x`, never in exponent form.
pub fn push_shortest(out: &mut String, x: f64) {
    render(x, Form::Shortest, out);
}

/// Appends `format!("{x:e}")`: the shortest digits that read back as `x`, in exponent form.
pub fn push_shortest_exp(out: &mut String, x: f64) {
    render(x, Form::ShortestExp, out);
}

#[cfg(test)]
fn exp(x: f64, prec: usize, c: bool) -> String {
    let mut out = String::new();
    push_exp(&mut out, x, prec, c);
    out
}

#[cfg(test)]
fn shortest(x: f64) -> String {
    let mut out = String::new();
    push_shortest(&mut out, x);
    out
}

#[cfg(test)]
fn shortest_exp(x: f64) -> String {
    let mut out = String::new();
    push_shortest_exp(&mut out, x);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic stream of values (SplitMix64), no dependencies.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let z = (self.0 ^ (self.0 >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }

    fn check(x: f64) {
        // Huge values print hundreds of digits: a few precisions suffice there.
        let precs: &[usize] = if x.abs() < 1e25 {
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        } else {
            &[0, 3]
        };
        for &prec in precs {
            assert_eq!(fixed(x, prec), format!("{x:.prec$}"), "{x:e} .{prec}");
            assert_eq!(
                exp(x, prec, false),
                format!("{x:.prec$e}"),
                "{x:e} .{prec}e"
            );
            // C's exponent: a sign and at least two digits.
            let rust = format!("{x:.prec$e}");
            let (m, e) = rust.split_once('e').unwrap_or((&rust, ""));
            let c = match e.parse::<i32>() {
                Ok(e) => format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs()),
                Err(_) => rust.clone(),
            };
            assert_eq!(exp(x, prec, true), c, "{x:e} .{prec}e C");
        }
        assert_eq!(shortest(x), format!("{x}"), "{x:e}");
        assert_eq!(shortest_exp(x), format!("{x:e}"), "{x:e}");
    }

    #[test]
    fn special_values() {
        for x in [
            0.0,
            -0.0,
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            f64::MAX,
            -f64::MAX,
            f64::EPSILON,
            5e-324,
            1e-323,
            f64::from_bits(0x000f_ffff_ffff_ffff),
            1e308,
            1e-308,
        ] {
            check(x);
        }
        assert_eq!(fixed(1e300, 2).len(), 301 + 3);
    }

    #[test]
    fn ties_round_to_even() {
        for x in [
            0.5, 1.5, 2.5, 3.5, 0.25, 0.75, 0.125, 0.375, 2.675, 1.005, 0.045, 0.0005, 9.5, 99.5,
            999.5, 0.05, 0.95, 9.995, 1e-7, 5e-10, 4.5e-10,
        ] {
            check(x);
            check(-x);
        }
        assert_eq!(fixed(0.5, 0), format!("{:.0}", 0.5));
        assert_eq!(fixed(2.5, 0), format!("{:.0}", 2.5));
    }

    #[test]
    fn carries_across_digits() {
        for x in [
            9.9996, 99.95, 0.99996, 9999.9999, 0.0099999, 999999.9, 9.5e-5, 0.000095, 0.96, 0.94,
        ] {
            check(x);
        }
    }

    #[test]
    fn powers_of_ten_and_two() {
        for e in (-320..=308).step_by(3) {
            let x: f64 = format!("1e{e}").parse().unwrap();
            check(x);
            check(x * 0.999_999_999_999);
            check(x * 1.000_000_000_001);
            check(x / 2.0);
        }
        for e in (-1074..=1023i32).step_by(3) {
            let bits = if e >= -1022 {
                ((e + 1023) as u64) << 52
            } else {
                1 << (e + 1074)
            };
            check(f64::from_bits(bits));
        }
    }

    #[test]
    fn what_pingr_formats() {
        // Milliseconds and seconds from nanoseconds, loss percentages and ratios.
        for ns in (0..1000u64).chain((0..1000).map(|i| i * 1_999_993 + 7)) {
            for x in [ns as f64 / 1e6, ns as f64 / 1e9] {
                check(x);
            }
        }
        for sent in 1..=80u64 {
            for lost in 0..=sent {
                let pct = lost as f64 * 100.0 / sent as f64;
                for prec in [1, 3] {
                    assert_eq!(fixed(pct, prec), format!("{pct:.prec$}"));
                }
                assert_eq!(shortest(pct / 100.0), format!("{}", pct / 100.0));
                assert_eq!(shortest_exp(pct), format!("{pct:e}"));
            }
        }
        for lost in [1u64, 2, 7, 999_999] {
            let pct = lost as f64 * 100.0 / 1_234_567_891.0;
            check(pct);
        }
    }

    #[test]
    fn random_doubles() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..2000 {
            let x = f64::from_bits(rng.next());
            if x.is_finite() {
                check(x);
            }
        }
        // Values of every magnitude pingr could meet, with random mantissas.
        for _ in 0..5000 {
            let m = rng.next() >> 11;
            let e = (rng.next() % 120) as i32 - 80;
            check(m as f64 * 2f64.powi(e));
        }
    }
}
