//! The CI-sized fuzz run: 2,000 cases in this process under `catch_unwind`. It fails only on
//! engine failures (panics, internal errors, statements slower than the timeout) and prints
//! them reduced, with the seed and case numbers that regenerate them.

use super::exec::InProcess;
use super::gen::Config;
use super::reduce::Budget;
use super::{run, RunOptions};
use std::time::Duration;

#[test]
fn fuzz_2000_cases_in_process() {
    let opts = RunOptions {
        cases: 2_000,
        seed: 1,
        timeout: Duration::from_secs(10),
        statement_timeout: Some(Duration::from_secs(5)),
        reset_every: 250,
        // Deeper stress statements are for `cargo xtask fuzz`, where a stack overflow kills a
        // worker rather than the test binary.
        config: Config { max_stress: 300 },
        // A failing CI run should say why quickly; `cargo xtask fuzz` reduces harder.
        reduce: Some(Budget { checks: 150, time: Duration::from_secs(3), replace_groups: true }),
    };
    let mut ex = InProcess::new(opts.timeout, opts.statement_timeout).expect("setting up the fuzz database");
    let stats = run(&opts, &mut ex, &mut |_| {}).expect("running the cases");
    println!("{}", stats.summary(opts.seed));
    assert!(stats.failures.is_empty(), "the engine failed on generated SQL: the failures are in the summary above");
    assert!(stats.valid_ok_rate() > 0.4, "too few generated statements run (summary above): the generator drifted");
}
