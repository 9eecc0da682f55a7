//! `IoLoop::current()` while a thread is torn down (issue 14, item 6): a background coroutine of
//! the default loop, still pending when `main` returns (or when a spawned thread exits), whose
//! drop calls `IoLoop::current()`, must let the process exit cleanly, not abort.
//!
//! This binary has no test harness: run without arguments, it runs itself once per case and
//! checks that each child exits with success (an abort is a signal, not an exit code).

use coroutine_runtime::*;
use std::process::Command;
use std::time::Duration;

/// Calls `IoLoop::current()` (and adds work to it) when dropped.
struct UsesTheLoopOnDrop;

impl Drop for UsesTheLoopOnDrop {
    fn drop(&mut self) {
        let io_loop = IoLoop::current();
        io_loop.add_callback(|| {});
        io_loop.spawn_callback(|| async {});
        io_loop.call_later(Duration::from_secs(1), || {});
        println!("dropped");
    }
}

/// Leaves a background coroutine holding a [`UsesTheLoopOnDrop`] pending on this thread's
/// default loop, after a `run_sync`.
fn leave_a_pending_coroutine() {
    let io_loop = IoLoop::current();
    io_loop.spawn_callback(|| async {
        let _guard = UsesTheLoopOnDrop;
        std::future::pending::<()>().await;
    });
    io_loop.call_later(Duration::from_secs(3600), || {
        let _guard = UsesTheLoopOnDrop;
    });
    assert_eq!(io_loop.run_sync(|| async { 7 }), 7);
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("main-thread") => leave_a_pending_coroutine(),
        Some("spawned-thread") => {
            std::thread::spawn(leave_a_pending_coroutine)
                .join()
                .unwrap();
            println!("joined");
        }
        _ => {
            let me = std::env::current_exe().expect("the test binary");
            for case in ["main-thread", "spawned-thread"] {
                let output = Command::new(&me)
                    .arg(case)
                    .output()
                    .expect("the child runs");
                let stdout = String::from_utf8_lossy(&output.stdout);
                let stderr = String::from_utf8_lossy(&output.stderr);
                assert!(
                    output.status.success(),
                    "{case}: the process did not exit cleanly ({}):\n{stderr}",
                    output.status
                );
                assert!(!stderr.contains("Thread Local Storage"), "{case}: {stderr}");
                assert!(
                    stdout.contains("dropped"),
                    "{case}: the coroutine was never dropped"
                );
                println!("test {case} ... ok");
            }
        }
    }
}
