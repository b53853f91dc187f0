//! How many reports fan out over rayon's pool at once: no more than the pool has threads.
//!
//! A rayon worker that waits for its half of a `join` steals whatever work is queued and runs it
//! on top of its own stack. With many reports queued at once (a hundred dashboard clients), a
//! worker nests parts of one report inside parts of another without bound until its stack
//! overflows and the process aborts (rayon-rs/rayon#854 describes the mechanism; issue #23 here
//! found it at 100 connections). Admitting at most as many reports as there are workers bounds
//! the nesting to that many report trees; the rest wait their turn outside the pool.

use std::sync::{Condvar, Mutex, OnceLock};

/// A counting semaphore over OS threads.
#[derive(Debug)]
pub struct Gate {
    inside: Mutex<usize>,
    freed: Condvar,
    limit: usize,
}

/// A place inside the gate, given back when dropped.
#[derive(Debug)]
pub struct Pass<'a>(&'a Gate);

impl Gate {
    /// A gate that lets `limit` (at least one) through at once.
    pub fn new(limit: usize) -> Gate {
        Gate {
            inside: Mutex::new(0),
            freed: Condvar::new(),
            limit: limit.max(1),
        }
    }

    /// Waits for a place.
    pub fn enter(&self) -> Pass<'_> {
        let mut inside = self.inside.lock().expect("gate lock");
        while *inside >= self.limit {
            inside = self.freed.wait(inside).expect("gate lock");
        }
        *inside += 1;
        Pass(self)
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        *self.0.inside.lock().expect("gate lock") -= 1;
        self.0.freed.notify_one();
    }
}

/// The gate of rayon's global pool, sized to its threads.
pub fn fanout() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(|| Gate::new(rayon::current_num_threads()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn no_more_than_the_limit_are_inside_at_once() {
        let gate = Gate::new(3);
        let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|s| {
            for _ in 0..16 {
                s.spawn(|| {
                    let _pass = gate.enter();
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    now.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 3);
        assert_eq!(*gate.inside.lock().unwrap(), 0, "every place given back");
    }
}
