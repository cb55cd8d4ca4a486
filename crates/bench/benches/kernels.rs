//! Execution layer, one batch at a time: the comparison kernels a filter runs, the Kleene AND
//! that combines them, applying the mask, and whole expression trees (`exec::Expr::evaluate`,
//! literals broadcast as the executor does today). The batch is 65,536 rows of the workload's
//! `orders` (`exec::batch_size()` is smaller; this measures per-row cost, not per-call).
//!
//! `cargo bench -p bench --bench kernels`

use bench::{Table, Workload, DEFAULT_BATCH_ROWS};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use exec::kernels::arith::{arith, ArithOp};
use exec::kernels::boolean::and_kleene;
use exec::kernels::compare::{compare, compare_scalar, CmpOp};
use exec::Expr;
use std::hint::black_box;
use storage::value::values_to_array;
use storage::{Batch, DataType, Value};

/// The orders columns' positions.
fn col(name: &str) -> usize {
    Table::Orders.columns().iter().position(|c| *c == name).expect("an orders column")
}

fn column(name: &str, data_type: DataType) -> Expr {
    Expr::Column { idx: col(name), name: name.to_string(), data_type }
}

fn lit(value: Value, data_type: DataType) -> Expr {
    Expr::Literal { value, data_type }
}

fn cmp(op: CmpOp, left: Expr, right: Expr) -> Expr {
    Expr::Compare { op, left: Box::new(left), right: Box::new(right) }
}

fn batch() -> Batch {
    let rows = DEFAULT_BATCH_ROWS as u64;
    let start = 1_000_000;
    Batch::new(Workload::new(10_000_000).chunk(Table::Orders, start..start + rows).into_arrays())
}

fn filter_kernels(c: &mut Criterion) {
    let batch = batch();
    let n = batch.n_rows;
    let broadcast = |dt: DataType, v: Value| values_to_array(dt, &vec![v; n]);
    let amount = batch.column(col("amount"));
    let product_id = batch.column(col("product_id"));
    let country = batch.column(col("country"));
    let timestamp = batch.column(col("timestamp"));
    let (big, needle, de, day) = (
        broadcast(DataType::Double, Value::Double(450.0)),
        broadcast(DataType::Integer, Value::Integer(4242)),
        broadcast(DataType::Text, Value::Text("DE".into())),
        broadcast(DataType::Timestamp, Value::Timestamp(bench::gen::NOW_MICROS - 86_400_000_000)),
    );

    let mut group = c.benchmark_group("filter");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("f64 amount > 450", |b| {
        b.iter(|| compare(CmpOp::Gt, black_box(amount), big.as_ref(), DataType::Double).unwrap())
    });
    group.bench_function("i32 product_id = 4242", |b| {
        b.iter(|| compare(CmpOp::Eq, black_box(product_id), needle.as_ref(), DataType::Integer).unwrap())
    });
    group.bench_function("text country = 'DE'", |b| {
        b.iter(|| compare(CmpOp::Eq, black_box(country), de.as_ref(), DataType::Text).unwrap())
    });
    // The executor compares a column with a constant through `compare_scalar` (the broadcast
    // arrays above are the column-to-column kernels).
    group.bench_function("text country = 'DE' (constant)", |b| {
        let de = Value::Text("DE".into());
        b.iter(|| compare_scalar(CmpOp::Eq, black_box(country), &de).unwrap())
    });
    group.bench_function("i32 product_id = 4242 (constant)", |b| {
        let needle = Value::Integer(4242);
        b.iter(|| compare_scalar(CmpOp::Eq, black_box(product_id), &needle).unwrap())
    });
    group.bench_function("f64 amount > 450 (constant)", |b| {
        let big = Value::Double(450.0);
        b.iter(|| compare_scalar(CmpOp::Gt, black_box(amount), &big).unwrap())
    });
    group.bench_function("timestamp > now - 1 day", |b| {
        b.iter(|| compare(CmpOp::Gt, black_box(timestamp), day.as_ref(), DataType::Timestamp).unwrap())
    });
    let lhs = compare(CmpOp::Eq, country, de.as_ref(), DataType::Text).unwrap();
    let rhs = compare(CmpOp::Gt, amount, big.as_ref(), DataType::Double).unwrap();
    group.bench_function("and_kleene", |b| b.iter(|| and_kleene(black_box(&lhs), black_box(&rhs))));
    let mask = and_kleene(&lhs, &rhs);
    group.bench_function("apply mask to 9 columns", |b| {
        b.iter(|| {
            batch
                .columns
                .iter()
                .map(|c| arrow::compute::filter::filter(c.as_ref(), black_box(&mask)).unwrap())
                .collect::<Vec<_>>()
        })
    });
    group.finish();
}

fn expressions(c: &mut Criterion) {
    let batch = batch();
    let mut group = c.benchmark_group("expr");
    group.throughput(Throughput::Elements(batch.n_rows as u64));
    let amount = batch.column(col("amount"));
    group.bench_function("kernel f64 amount * amount", |b| {
        b.iter(|| arith(ArithOp::Mul, black_box(amount), amount, DataType::Double).unwrap())
    });
    // country = 'DE' AND amount > 450.0 (q14's filter)
    let q14 = Expr::And(
        Box::new(cmp(CmpOp::Eq, column("country", DataType::Text), lit(Value::Text("DE".into()), DataType::Text))),
        Box::new(cmp(CmpOp::Gt, column("amount", DataType::Double), lit(Value::Double(450.0), DataType::Double))),
    );
    group.bench_function("country = 'DE' AND amount > 450.0", |b| b.iter(|| q14.evaluate(black_box(&batch)).unwrap()));
    // amount * CAST(quantity AS DOUBLE) > 1000.0
    let revenue = cmp(
        CmpOp::Gt,
        Expr::Arith {
            op: ArithOp::Mul,
            left: Box::new(column("amount", DataType::Double)),
            right: Box::new(Expr::Cast { expr: Box::new(column("quantity", DataType::Integer)), to: DataType::Double }),
            data_type: DataType::Double,
        },
        lit(Value::Double(1000.0), DataType::Double),
    );
    group.bench_function("amount * CAST(quantity AS DOUBLE) > 1000.0", |b| {
        b.iter(|| revenue.evaluate(black_box(&batch)).unwrap())
    });
    // CASE WHEN is_new_customer THEN customer_id END (q01's COUNT DISTINCT argument)
    let case = Expr::Case {
        whens: vec![(column("is_new_customer", DataType::Boolean), column("customer_id", DataType::BigInt))],
        else_expr: None,
        data_type: DataType::BigInt,
    };
    group.bench_function("CASE WHEN is_new_customer THEN customer_id END", |b| {
        b.iter(|| case.evaluate(black_box(&batch)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, filter_kernels, expressions);
criterion_main!(benches);
