//! `cargo test` entry for the project's own sqllogictest files: every `.slt` file under
//! `tests/slt/` is one test, run with the project's strict convention (values per FORMAT.md,
//! type letters and expected error messages checked) against a fresh in-memory database.
//! A failing test prints every failed record with its SQL and an expected/actual diff.
//!
//! Filter as usual: `cargo test -p heliosdb-tests --test sqllogictest -- nulls`.

use heliosdb_tests::{install_quiet_panic_hook, run_file, test_files, Corpus, Options};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::Path;

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("slt");
    let files = match test_files(&root) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("cannot list {}: {e}", root.display());
            std::process::exit(2);
        }
    };
    install_quiet_panic_hook();
    let trials = files
        .into_iter()
        .map(|file| {
            let name = file.strip_prefix(&root).unwrap_or(&file).display().to_string();
            Trial::test(name, move || {
                let opts = Options { corpus: Some(Corpus::Project), ..Options::default() };
                let report = run_file(&file, &opts);
                if report.failed == 0 {
                    Ok(())
                } else {
                    Err(Failed::from(format!("{}\n\n{}", report.counts(), report.failure_text())))
                }
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
