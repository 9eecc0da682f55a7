//! Where is it stuck? A small server on the `IoLoop` whose requests wait on a slow database, a
//! thread-pool job and each other; 200 ms in, it prints the tree of its suspended coroutines,
//! then the loop's stuck-coroutine reports, without a single annotation.
//!
//! Run with `cargo run -p coroutine-runtime --example stuck --features introspect`.

use std::time::Duration;

use coroutine_runtime::*;

/// Stands for a database whose queries take a while.
#[derive(Clone)]
struct Db {
    pool: ThreadPoolExecutor,
}

impl Db {
    #[coroutine_runtime::coroutine]
    fn query(&self, millis: u64) -> u64 {
        // A slow query: the sleep stands for the network round trip.
        yield_!(sleep(Duration::from_millis(millis)));
        millis
    }

    #[coroutine_runtime::coroutine]
    fn checksum(&self) -> u64 {
        // Blocking work, on the pool's threads.
        yield_!(self.pool.submit(|| {
            std::thread::sleep(Duration::from_millis(400));
            42
        }))
    }
}

/// One request: three queries in parallel, then a checksum.
#[coroutine_runtime::coroutine]
fn handle_request(db: Db, id: u64) -> u64 {
    let rows = yield_!(vec![db.query(300 + id), db.query(50), db.query(500)]);
    let checksum = yield_!(db.checksum());
    rows.iter().sum::<u64>() + checksum
}

/// Serves two requests at once.
#[coroutine_runtime::coroutine]
fn serve(db: Db) -> u64 {
    let (a, b) = yield_!((handle_request(db.clone(), 1), handle_request(db, 2)));
    a + b
}

fn main() {
    let io_loop = IoLoop::current();
    io_loop.set_stuck_threshold(Duration::from_millis(350), |node| {
        let (file, line, column) = node.location();
        println!(
            "stuck for {:?}: {} at {file}:{line}:{column}",
            node.age(),
            node.name()
        );
    });
    io_loop.call_later(Duration::from_millis(200), || {
        println!("--- 200 ms in ---");
        print!("{}", introspect::snapshot());
        println!("--- the loop's reports ---");
    });
    let db = Db {
        pool: ThreadPoolExecutor::new(2),
    };
    let total = io_loop.run_sync(move || serve(db));
    println!("--- done: {total} ---");
}
