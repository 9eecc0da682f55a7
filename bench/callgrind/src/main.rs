//! Runs one benchmark case once, for `valgrind --tool=callgrind` to count its instructions:
//! `coroutine-callgrind CASE N`. The workloads are the criterion benches' own
//! (`coroutine-runtime/benches/support/`), included by path; `none` measures the fixed cost.

#[path = "../../../coroutine-runtime/benches/support/joins.rs"]
#[allow(dead_code, reason = "the map joins are for the criterion bench")]
mod joins;
#[path = "../../../coroutine-runtime/benches/support/ping_pong.rs"]
mod ping_pong;
#[path = "../../../coroutine-runtime/benches/support/yield_workloads.rs"]
mod workloads;

use std::hint::black_box;

use coroutine_runtime::IoLoop;
use futures::channel::mpsc::unbounded;
use futures::executor::{LocalPool, block_on};
use futures::task::LocalSpawnExt;
use ping_pong::*;
use workloads::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args[2].parse().expect("N is a number");
    let (requests, requests_rx) = unbounded();
    let (replies_tx, replies) = unbounded();
    let result = match args[1].as_str() {
        "none" => 0,
        "W1/coroutine" => block_on(ready_loop(n)),
        "W1/coroutine_lazy" => block_on(ready_loop_lazy(n)),
        "W1/async_fn" => block_on(ready_loop_async(n)),
        "W1s/coroutine_block_on" => {
            block_on(suspend_loop(n));
            0
        }
        "W1s/async_fn_block_on" => {
            block_on(suspend_loop_async(n));
            0
        }
        "W1s/coroutine_local_pool" => {
            run_on_local_pool(suspend_loop(n));
            0
        }
        "W1s/async_fn_local_pool" => {
            run_on_local_pool(suspend_loop_async(n));
            0
        }
        "W2/coroutine_lazy" => block_on(call_lazy_loop(n)),
        "W2/async_fn" => block_on(call_async_loop(n)),
        "W2/coroutine" => block_on(call_eager_loop(n)),
        "W2/boxed_async_fn" => block_on(call_boxed_loop(n)),
        "W5/coroutines_io_loop" => {
            let io_loop = IoLoop::new();
            io_loop.spawn_callback(move || echo(requests_rx, replies_tx));
            io_loop.run_sync(|| ping(n, requests, replies))
        }
        "W5/async_fns_tokio_local_set" => {
            let (runtime, local) = ping_pong::tokio_local_set();
            local.spawn_local(echo_async(requests_rx, replies_tx));
            local.block_on(&runtime, ping_async(n, requests, replies))
        }
        "W1s/coroutine_io_loop" => {
            IoLoop::new().run_sync(|| suspend_loop(n));
            0
        }
        "W1s/async_fn_tokio_local_set" => {
            let (runtime, local) = ping_pong::tokio_local_set();
            local.block_on(&runtime, suspend_loop_async(n));
            0
        }
        "W5/async_fns_local_pool" => {
            let mut pool = LocalPool::new();
            pool.spawner()
                .spawn_local(echo_async(requests_rx, replies_tx))
                .expect("a fresh pool");
            pool.run_until(ping_async(n, requests, replies))
        }
        // W3, pending children woken in shuffled order: `W3p/JOIN N` runs three joins of N
        // children each, `W3p/setup N` makes the children of three and joins none.
        join if join.starts_with("W3p/") => {
            let n = usize::try_from(n).expect("N fits in a usize");
            let mut sum = 0;
            for _ in 0..3 {
                let p = joins::Pending::new(n);
                let (children, slots, order) = (p.children, p.slots, p.order);
                macro_rules! case {
                    ($name:literal, $join:ident) => {
                        if &join[4..] == $name {
                            let values = joins::wake_one_by_one(joins::$join(children), &slots, &order);
                            sum += values[n - 1];
                            continue;
                        }
                    };
                }
                joins::for_each_join!(case);
                assert_eq!(&join[4..], "setup", "unknown join");
                black_box((children, slots, order));
            }
            sum
        }
        case => panic!("unknown case `{case}`"),
    };
    black_box(result);
}

