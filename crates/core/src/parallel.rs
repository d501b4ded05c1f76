//! Work spread over the machine's cores, for the few places where one diff's reading is
//! worth threads: the files of an environment and the documents of a large file.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The cores this process may use, asked once. std's answer reads the cgroup's CPU quota
/// from /proc and /sys on every call (a quarter of a millisecond here), and a diff asks
/// for each file it reads.
pub fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `f` of each of `items`, in their order; when `parallel`, on a thread per core, each
/// taking the next item not yet taken (their sizes may differ by orders of magnitude).
pub fn map_in_order<T: Sync, R: Send>(
    items: &[T],
    parallel: bool,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = if parallel {
        cores().min(items.len())
    } else {
        1
    };
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut out: Vec<Option<R>> = Vec::new();
    out.resize_with(items.len(), || None);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (next, f) = (&next, &f);
                scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let at = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(at) else {
                            return done;
                        };
                        done.push((at, f(item)));
                    }
                })
            })
            .collect();
        for worker in workers {
            for (at, result) in worker.join().expect("a worker's function does not panic") {
                out[at] = Some(result);
            }
        }
    });
    out.into_iter()
        .map(|result| result.expect("every item was taken"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_the_items_order_on_threads_or_not() {
        let items: Vec<u64> = (0..1000).collect();
        let slow_then_fast = |n: &u64| {
            // The first items take longest, so that on threads they finish last.
            let spins = if *n < 4 { 200_000 } else { 1 };
            (0..spins).fold(*n, |acc, i| std::hint::black_box(acc ^ i) ^ i) * 2
        };
        let expected: Vec<u64> = items.iter().map(|n| n * 2).collect();
        assert_eq!(map_in_order(&items, true, slow_then_fast), expected);
        assert_eq!(map_in_order(&items, false, slow_then_fast), expected);
        assert!(map_in_order(&[] as &[u64], true, slow_then_fast).is_empty());
    }

    #[test]
    fn cores_is_at_least_one_and_stays_the_same() {
        assert!(cores() >= 1);
        assert_eq!(cores(), cores());
    }
}
