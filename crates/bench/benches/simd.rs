//! The SIMD kernels of `exec::kernels::simd` against their scalar references, on 1,000,000
//! values each (pseudo-random, fixed seed; "nulls" variants have every 10th row NULL).
//! Build with `RUSTFLAGS="-C target-cpu=native"` to get AVX2 lanes (as `cargo xtask bench`
//! does); without it `wide` falls back to SSE2 pairs.
//!
//! `RUSTFLAGS="-C target-cpu=native" cargo bench -p bench --bench simd`

use arrow::bitmap::Bitmap;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use exec::kernels::compare::CmpOp;
use exec::kernels::simd::{self, F64Lanes, LaneOp};
use std::hint::black_box;

const N: usize = 1_000_000;

/// A fixed pseudo-random sequence (splitmix64).
fn randoms(seed: u64) -> impl Iterator<Item = u64> {
    let mut state = seed;
    std::iter::repeat_with(move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

fn data() -> (Vec<i64>, Vec<i32>, Vec<f64>, Bitmap) {
    let i64s: Vec<i64> = randoms(1).take(N).map(|x| (x % 2_000_000_000) as i64 - 1_000_000_000).collect();
    let i32s: Vec<i32> = randoms(2).take(N).map(|x| (x % 20_000) as i32 - 10_000).collect();
    let f64s: Vec<f64> = randoms(3).take(N).map(|x| (x % 1_000_000) as f64 / 100.0).collect();
    let nulls: Bitmap = (0..N).map(|i| i % 10 != 0).collect();
    (i64s, i32s, f64s, nulls)
}

fn kernels(c: &mut Criterion) {
    let (i64s, i32s, f64s, nulls) = data();
    let rev64: Vec<i64> = i64s.iter().rev().copied().collect();
    let rev32: Vec<i32> = i32s.iter().rev().copied().collect();
    let revf: Vec<f64> = f64s.iter().rev().copied().collect();
    let groups: Vec<u32> = randoms(4).take(N).map(|x| (x % 20) as u32).collect();

    let mut g = c.benchmark_group("simd");
    g.throughput(Throughput::Elements(N as u64));
    macro_rules! pair {
        ($name:literal, $scalar:expr, $simd:expr) => {
            g.bench_function(BenchmarkId::new($name, "scalar"), |b| b.iter(|| black_box($scalar)));
            g.bench_function(BenchmarkId::new($name, "simd"), |b| b.iter(|| black_box($simd)));
        };
    }
    pair!("sum i64", simd::sum_i64_scalar(black_box(&i64s), None), simd::sum_i64(black_box(&i64s), None));
    pair!(
        "sum i64 nulls",
        simd::sum_i64_scalar(black_box(&i64s), Some(&nulls)),
        simd::sum_i64(black_box(&i64s), Some(&nulls))
    );
    pair!("sum i32", simd::sum_i32_scalar(black_box(&i32s), None), simd::sum_i32(black_box(&i32s), None));
    pair!(
        "sum f64",
        simd::sum_f64_scalar(black_box(&f64s), None, &mut F64Lanes::default()),
        simd::sum_f64(black_box(&f64s), None, &mut F64Lanes::default())
    );
    pair!(
        "sum f64 nulls",
        simd::sum_f64_scalar(black_box(&f64s), Some(&nulls), &mut F64Lanes::default()),
        simd::sum_f64(black_box(&f64s), Some(&nulls), &mut F64Lanes::default())
    );
    pair!("min i64", simd::min_i64_scalar(black_box(&i64s), None), simd::min_i64(black_box(&i64s), None));
    pair!("max i32", simd::max_i32_scalar(black_box(&i32s), None), simd::max_i32(black_box(&i32s), None));
    pair!(
        "min f64 nulls",
        simd::min_max_f64_scalar(black_box(&f64s), Some(&nulls), true),
        simd::min_max_f64(black_box(&f64s), Some(&nulls), true)
    );
    pair!(
        "i64 < const",
        simd::compare_i64_scalar(CmpOp::Lt, black_box(&i64s), 0),
        simd::compare_i64(CmpOp::Lt, black_box(&i64s), 0)
    );
    pair!(
        "i32 = const",
        simd::compare_i32_scalar(CmpOp::Eq, black_box(&i32s), 4242),
        simd::compare_i32(CmpOp::Eq, black_box(&i32s), 4242)
    );
    pair!(
        "f64 > const",
        simd::compare_f64_scalar(CmpOp::Gt, black_box(&f64s), 4500.0),
        simd::compare_f64(CmpOp::Gt, black_box(&f64s), 4500.0)
    );
    pair!(
        "i64 <= i64",
        simd::compare_i64_cols_scalar(CmpOp::LtEq, black_box(&i64s), &rev64),
        simd::compare_i64_cols(CmpOp::LtEq, black_box(&i64s), &rev64)
    );
    pair!(
        "f64 < f64",
        simd::compare_f64_cols_scalar(CmpOp::Lt, black_box(&f64s), &revf),
        simd::compare_f64_cols(CmpOp::Lt, black_box(&f64s), &revf)
    );
    pair!(
        "i64 + i64",
        simd::arith_i64_scalar(LaneOp::Add, black_box(&i64s), &rev64, None),
        simd::arith_i64(LaneOp::Add, black_box(&i64s), &rev64, None)
    );
    pair!(
        "i32 * i32",
        simd::arith_i32_scalar(LaneOp::Mul, black_box(&i32s), &rev32, None),
        simd::arith_i32(LaneOp::Mul, black_box(&i32s), &rev32, None)
    );
    pair!(
        "f64 * f64",
        simd::arith_f64_scalar(LaneOp::Mul, black_box(&f64s), &revf),
        simd::arith_f64(LaneOp::Mul, black_box(&f64s), &revf)
    );
    pair!(
        "grouped count nulls",
        {
            let mut counts = vec![0i64; 20];
            simd::count_grouped_scalar(black_box(&groups), &nulls, &mut counts);
            counts
        },
        {
            let mut counts = vec![0i64; 20];
            simd::count_grouped(black_box(&groups), &nulls, &mut counts);
            counts
        }
    );
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(300)).measurement_time(std::time::Duration::from_secs(1));
    targets = kernels
}
criterion_main!(benches);
