//! The report workers: a fixed number of report computations at once (sized to the cores), a
//! short queue before them, and beyond it a refusal the caller answers with `503` and
//! `Retry-After`. A computation runs on tokio's blocking pool and, once started, finishes even
//! if the client that asked is gone: its answer is kept for the next one (`serve::answers`).
//!
//! Before this, every request computed on its own blocking thread, so a hundred clients meant a
//! hundred computations sharing two cores and each waiting seconds (issue #23).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

/// Why a job did not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Every worker is busy and the queue is full.
    QueueFull,
    /// The job waited in the queue longer than the wait allowed.
    Waited,
    /// The job panicked (a bug; the server goes on).
    Failed,
}

/// The workers and their queue.
#[derive(Debug)]
pub struct Workers {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    running: AtomicUsize,
    queue: usize,
    wait: Duration,
}

/// Figures for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Load {
    /// Jobs running now.
    pub running: usize,
    /// Jobs waiting for a worker.
    pub waiting: usize,
}

/// Takes one place in the queue, and gives it back when dropped (also when the caller's future
/// is dropped while it waits).
struct InQueue<'a>(&'a AtomicUsize);

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Workers {
    /// `workers` computations at once (at least one), at most `queue` more waiting, none of them
    /// longer than `wait`.
    pub fn new(workers: usize, queue: usize, wait: Duration) -> Workers {
        Workers {
            permits: Arc::new(Semaphore::new(workers.max(1))),
            waiting: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            queue,
            wait,
        }
    }

    /// The number of cores, as the default number of workers.
    pub fn cores() -> usize {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    }

    /// Runs `job` on a worker, after waiting in the queue if need be.
    pub async fn run<T, F>(&self, job: F) -> Result<T, Refused>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    return Err(Refused::QueueFull);
                }
                let _place = InQueue(&self.waiting);
                match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
                    Ok(Ok(p)) => p,
                    Ok(Err(_)) | Err(_) => return Err(Refused::Waited),
                }
            }
        };
        self.running.fetch_add(1, Ordering::SeqCst);
        let result = tokio::task::spawn_blocking(move || {
            let out = job();
            drop(permit);
            out
        })
        .await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        result.map_err(|_| Refused::Failed)
    }

    /// Jobs running and waiting now.
    pub fn load(&self) -> Load {
        Load {
            running: self.running.load(Ordering::SeqCst),
            waiting: self.waiting.load(Ordering::SeqCst),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn beyond_the_workers_and_the_queue_jobs_are_refused_at_once() {
        let workers = Arc::new(Workers::new(2, 3, Duration::from_secs(30)));
        let most = Arc::new(AtomicUsize::new(0));
        let now = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let (w, most, now) = (workers.clone(), most.clone(), now.clone());
            tasks.push(tokio::spawn(async move {
                w.run(move || {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(200));
                    now.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            }));
        }
        let mut done = 0;
        let mut refused = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => done += 1,
                Err(Refused::QueueFull) => refused += 1,
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!((done, refused), (5, 5), "two at work and three queued");
        assert_eq!(
            most.load(Ordering::SeqCst),
            2,
            "never more than the workers"
        );
        assert_eq!(workers.load(), Load::default(), "every place given back");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_that_waits_too_long_is_refused_and_leaves_the_queue() {
        let workers = Arc::new(Workers::new(1, 5, Duration::from_millis(50)));
        let busy = {
            let w = workers.clone();
            tokio::spawn(async move {
                w.run(|| std::thread::sleep(Duration::from_millis(400)))
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(workers.run(|| ()).await, Err(Refused::Waited));
        assert_eq!(workers.load().waiting, 0);
        busy.await.unwrap().unwrap();
        assert_eq!(workers.run(|| 7).await, Ok(7));
    }
}
