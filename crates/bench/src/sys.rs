//! What the benchmark measures about the machine and its own process: resident memory and its
//! peak (Linux `/proc/self`), the CPU features the binary was compiled for, and the memory
//! bandwidth of a plain sum over a large array (the floor for a scan that reads every byte).

use std::hint::black_box;
use std::time::Instant;

/// Resident memory of this process, from `/proc/self/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// `VmRSS`: resident now, in bytes.
    pub rss: u64,
    /// `VmHWM`: the peak resident size since the process started or since the last
    /// [`reset_peak`], in bytes.
    pub peak: u64,
}

/// Reads `VmRSS` and `VmHWM` (kB) from `/proc/self/status`; `None` where there is no such file.
pub fn memory() -> Option<Memory> {
    parse_status(&std::fs::read_to_string("/proc/self/status").ok()?)
}

fn parse_status(text: &str) -> Option<Memory> {
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line[name.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb * 1024)
    };
    Some(Memory { rss: field("VmRSS:")?, peak: field("VmHWM:")? })
}

/// Resets this process's peak resident size (`VmHWM`) to its current size, by writing `5` to
/// `/proc/self/clear_refs` (Linux 4.0+); `Err` says why it could not.
pub fn reset_peak() -> Result<(), String> {
    std::fs::write("/proc/self/clear_refs", "5").map_err(|e| format!("writing 5 to /proc/self/clear_refs: {e}"))?;
    let mem = memory().ok_or("no /proc/self/status")?;
    // The kernel resets VmHWM to the current RSS; allow for pages touched in between.
    if mem.peak > mem.rss + (64 << 20) {
        return Err(format!("VmHWM stayed at {} MiB after clear_refs (RSS {} MiB)", mem.peak >> 20, mem.rss >> 20));
    }
    Ok(())
}

macro_rules! features {
    ($($name:tt),* $(,)?) => {
        [$(($name, cfg!(target_feature = $name))),*]
    };
}

/// The SIMD-relevant target features this binary was compiled with (`-C target-cpu=native`
/// turns on whatever the build machine has).
pub fn target_features() -> Vec<&'static str> {
    let all = features![
        "sse2", "sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "avx", "avx2", "fma", "bmi1", "bmi2", "lzcnt",
        "f16c", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512vpopcntdq", "neon", "sve", "sve2",
    ];
    all.iter().filter(|(_, on)| *on).map(|(name, _)| *name).collect()
}

/// The CPU's model name (`/proc/cpuinfo`) and the number of cores this process may use.
pub fn cpu() -> (String, usize) {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("model name"))?;
            Some(line.split_once(':')?.1.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    (model, std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The measured bandwidth of summing a large `i64` array.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bandwidth {
    /// The array's size.
    pub bytes: u64,
    /// Bytes per second, one thread (the best of the passes).
    pub one_thread: f64,
    /// Bytes per second with `threads` threads each summing a slice (the best of the passes).
    pub all_threads: f64,
    pub threads: usize,
}

impl Bandwidth {
    /// The better of the two rates: what a scan can hope for on this machine.
    pub fn best(&self) -> f64 {
        self.one_thread.max(self.all_threads)
    }
}

/// Sums `elems` `i64` values (`8 * elems` bytes, touched first so they are resident) `passes`
/// times on one thread and on every available core; keeps the best pass of each.
pub fn measure_bandwidth(elems: usize, passes: usize) -> Bandwidth {
    let values: Vec<i64> = (0..elems as i64).collect();
    let expected: i64 = (elems as i64 - 1) * elems as i64 / 2;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let best = |f: &dyn Fn() -> i64| -> f64 {
        (0..passes.max(1))
            .map(|_| {
                let t = Instant::now();
                let sum = black_box(f());
                let secs = t.elapsed().as_secs_f64();
                assert_eq!(sum, expected, "the bandwidth loop summed wrong");
                secs
            })
            .fold(f64::INFINITY, f64::min)
    };
    let one = best(&|| black_box(&values[..]).iter().sum());
    let part = elems.div_ceil(threads).max(1);
    let all = best(&|| {
        std::thread::scope(|s| {
            let handles: Vec<_> =
                values.chunks(part).map(|slice| s.spawn(move || black_box(slice).iter().sum::<i64>())).collect();
            handles.into_iter().map(|h| h.join().expect("a summing thread panicked")).sum()
        })
    });
    let bytes = (elems * std::mem::size_of::<i64>()) as u64;
    Bandwidth { bytes, one_thread: bytes as f64 / one, all_threads: bytes as f64 / all, threads }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_status() {
        let text = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
        assert_eq!(parse_status(text), Some(Memory { rss: 1 << 20, peak: 2 << 20 }));
        assert_eq!(parse_status("Name:\tx\n"), None);
    }

    #[test]
    fn memory_and_bandwidth_measure_something() {
        if cfg!(target_os = "linux") {
            let mem = memory().unwrap();
            assert!(mem.rss > 0 && mem.peak >= mem.rss);
        }
        let bw = measure_bandwidth(1 << 16, 2);
        assert!(bw.one_thread > 0.0 && bw.all_threads > 0.0 && bw.bytes == 8 << 16);
        assert!(target_features().iter().all(|f| !f.is_empty()));
    }
}
