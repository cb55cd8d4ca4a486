//! Measures encoding and compression ratios on typical dashboard columns, and the time to
//! write and read them back as a column file.
//!
//! ```text
//! cargo run --release -p storage --example ratios [n_rows]
//! ```

use arrow::array::{Array, Float64Array, Int64Array, PrimitiveArray, Utf8Array};
use arrow::datatypes::{DataType as ArrowType, TimeUnit};
use std::time::Instant;
use storage::column_file::DEFAULT_ROW_GROUP_ROWS;
use storage::compression::{compress, decompress};
use storage::{encoding, ArrayRef, Batch, ColumnFile, ColumnFileWriter, Compression, DataType};

/// xorshift64*: deterministic data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn raw_size(array: &dyn Array) -> usize {
    let validity = array.validity().map_or(0, |v| v.len().div_ceil(8));
    let values = match array.data_type() {
        ArrowType::Utf8 => {
            let a = array.as_any().downcast_ref::<Utf8Array<i32>>().unwrap();
            a.values().len() + 4 * (a.len() + 1)
        }
        ArrowType::Float64 | ArrowType::Int64 | ArrowType::Timestamp(..) => 8 * array.len(),
        _ => 4 * array.len(),
    };
    values + validity
}

fn main() {
    let n_rows: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut ts = 1_735_689_600_000_000i64; // 2025-01-01 in microseconds
    let timestamps: Vec<i64> = (0..n_rows)
        .map(|_| {
            ts += rng.below(200_000) as i64; // about 10 events per second, jittered
            ts
        })
        .collect();
    let events = ["page_view", "click", "signup", "purchase", "logout", "search", "add_to_cart", "checkout"];
    let countries = ["US", "DE", "FR", "GB", "IN", "BR", "JP", "CA", "AU", "ES", "IT", "NL", "SE", "MX", "KR"];
    let event: Vec<&str> = (0..n_rows).map(|_| events[rng.below(events.len() as u64) as usize]).collect();
    let country: Vec<Option<&str>> = (0..n_rows)
        .map(|_| if rng.below(50) == 0 { None } else { Some(countries[rng.below(countries.len() as u64) as usize]) })
        .collect();
    let price: Vec<f64> = (0..n_rows).map(|_| (rng.below(99_999) + 1) as f64 / 100.0).collect();
    let user_id: Vec<i64> = (0..n_rows).map(|_| rng.below(1_000_000) as i64).collect();
    let random: Vec<i64> = (0..n_rows).map(|_| rng.next() as i64).collect();
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "ts (sorted timestamps)",
            PrimitiveArray::<i64>::from_vec(timestamps).to(ArrowType::Timestamp(TimeUnit::Microsecond, None)).boxed(),
        ),
        ("event (8 distinct texts)", Utf8Array::<i32>::from_slice(&event).boxed()),
        ("country (15 texts, 2% NULL)", Utf8Array::<i32>::from(country).boxed()),
        ("price (whole cents)", Float64Array::from_vec(price).boxed()),
        ("user_id (random 0..1e6)", Int64Array::from_vec(user_id).boxed()),
        ("random i64", Int64Array::from_vec(random).boxed()),
    ];

    println!("{n_rows} rows, row groups of {DEFAULT_ROW_GROUP_ROWS}; sizes in bytes, ratio = raw arrow / stored");
    println!(
        "{:<30} {:>11} {:>20} {:>11} {:>6} {:>11} {:>6} {:>9} {:>9}",
        "column", "raw", "encoding", "encoded", "ratio", "+lz4", "ratio", "+zstd", "ratio"
    );
    let (mut total_raw, mut total_lz4, mut total_zstd) = (0usize, 0usize, 0usize);
    let (mut encode_secs, mut decode_secs) = (0f64, 0f64);
    for (name, array) in &columns {
        let raw = raw_size(array.as_ref());
        let (mut encoded, mut lz4, mut zstd) = (0, 0, 0);
        let mut encodings = std::collections::BTreeMap::new();
        let mut offset = 0;
        while offset < n_rows {
            let len = DEFAULT_ROW_GROUP_ROWS.min(n_rows - offset);
            let slice = array.sliced(offset, len);
            let started = Instant::now();
            let chunk = encoding::encode(slice.as_ref()).unwrap();
            encode_secs += started.elapsed().as_secs_f64();
            *encodings.entry(chunk.encoding.name()).or_insert(0) += 1;
            encoded += chunk.bytes.len();
            let mut frame = Vec::new();
            compress(Compression::Lz4, &chunk.bytes, &mut frame).unwrap();
            lz4 += frame.len();
            let started = Instant::now();
            let back = encoding::decode(&decompress(&frame).unwrap()).unwrap();
            decode_secs += started.elapsed().as_secs_f64();
            assert!(back.as_ref() == slice.as_ref());
            frame.clear();
            compress(Compression::Zstd, &chunk.bytes, &mut frame).unwrap();
            zstd += frame.len();
            offset += len;
        }
        let chosen: Vec<String> = encodings.iter().map(|(e, n)| format!("{e} x{n}")).collect();
        let ratio = |stored: usize| raw as f64 / stored as f64;
        println!(
            "{name:<30} {raw:>11} {:>20} {encoded:>11} {:>6.1} {lz4:>11} {:>6.1} {zstd:>9} {:>9.1}",
            chosen.join(","),
            ratio(encoded),
            ratio(lz4),
            ratio(zstd)
        );
        total_raw += raw;
        total_lz4 += lz4;
        total_zstd += zstd;
    }
    println!(
        "total raw {total_raw}, lz4 {total_lz4} ({:.1}x), zstd {total_zstd} ({:.1}x)",
        total_raw as f64 / total_lz4 as f64,
        total_raw as f64 / total_zstd as f64
    );
    println!(
        "encode {:.0} Mrows/s per column, lz4 decompress + decode {:.0} Mrows/s per column",
        (n_rows * columns.len()) as f64 / encode_secs / 1e6,
        (n_rows * columns.len()) as f64 / decode_secs / 1e6
    );

    let dir = tempfile::tempdir().unwrap();
    let batch = Batch::new(columns.iter().map(|(_, a)| a.clone()).collect());
    let types =
        vec![DataType::Timestamp, DataType::Text, DataType::Text, DataType::Double, DataType::BigInt, DataType::BigInt];
    for compression in [Compression::Lz4, Compression::Zstd] {
        let path = dir.path().join(format!("sample-{}.col", compression.name()));
        let started = Instant::now();
        let mut writer = ColumnFileWriter::create(&path, types.clone(), compression).unwrap();
        writer.write_batch(&batch).unwrap();
        let summary = writer.finish().unwrap();
        let write_secs = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let file = ColumnFile::open(&path).unwrap();
        let all: Vec<usize> = (0..types.len()).collect();
        let mut n_read = 0;
        for rg_idx in 0..file.row_groups().len() {
            n_read += file.read_row_group(rg_idx, &all).unwrap().n_rows;
        }
        let read_secs = started.elapsed().as_secs_f64();
        assert_eq!(n_read, n_rows);
        println!(
            "column file ({}): {} bytes ({:.1}x), {} row groups, write {:.0} ms (incl. fsync), full read {:.0} ms",
            compression.name(),
            summary.size_bytes,
            total_raw as f64 / summary.size_bytes as f64,
            summary.n_row_groups,
            write_secs * 1e3,
            read_secs * 1e3
        );
    }
}
