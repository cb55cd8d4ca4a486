//! HeliosDB Nano's side of `cargo xtask bench`; see `bench::runner`.

fn main() -> std::process::ExitCode {
    bench::runner::main()
}
