//! Storage layer: decoding one column chunk (65,536 rows of the workload's `orders`) from the
//! encoding the statistics choose, and from plain, per column. Throughput is in bytes of the
//! decoded arrow2 array (values, offsets and validity), so criterion reports GB/s per encoding.
//!
//! `cargo bench -p bench --bench decode`

use bench::{Table, Workload, DEFAULT_BATCH_ROWS};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use storage::encoding::{decode, encode, encode_as, Encoding};

fn decode_columns(c: &mut Criterion) {
    let rows = DEFAULT_BATCH_ROWS as u64;
    // A chunk from the middle of the table: typical values, not the first ids.
    let start = 1_000_000;
    let chunk = Workload::new(10_000_000).chunk(Table::Orders, start..start + rows);
    let mut group = c.benchmark_group("decode");
    for (name, array) in Table::Orders.columns().iter().zip(chunk.arrays()) {
        let decoded_bytes = arrow::compute::aggregate::estimated_bytes_size(array.as_ref()) as u64;
        group.throughput(Throughput::Bytes(decoded_bytes));
        let chosen = encode(array.as_ref()).expect("the workload's columns encode");
        let mut encodings = vec![chosen];
        if encodings[0].encoding != Encoding::Plain {
            encodings.push(encode_as(array.as_ref(), Encoding::Plain).expect("every column has a plain form"));
        }
        for encoded in encodings {
            let id = BenchmarkId::new(*name, format!("{} ({} B)", encoded.encoding, encoded.bytes.len()));
            group.bench_with_input(id, &encoded.bytes, |b, bytes| b.iter(|| decode(black_box(bytes)).unwrap()));
        }
    }
    group.finish();

    let mut group = c.benchmark_group("encode");
    for (name, array) in Table::Orders.columns().iter().zip(chunk.arrays()) {
        group.throughput(Throughput::Bytes(arrow::compute::aggregate::estimated_bytes_size(array.as_ref()) as u64));
        group.bench_function(*name, |b| b.iter(|| encode(black_box(array.as_ref())).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, decode_columns);
criterion_main!(benches);
