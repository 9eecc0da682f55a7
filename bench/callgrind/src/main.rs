//! Runs one benchmark case once, for `valgrind --tool=callgrind` to count its instructions:
//! `coroutine-callgrind CASE N`. The cases are those of `coroutine-runtime/benches/yields.rs`
//! and `executors.rs` (W5), written the same way; `none` measures the program's fixed cost.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};

use coroutine_runtime::{IoLoop, moment, yield_};
use futures::StreamExt;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use futures::executor::{LocalPool, block_on};
use futures::future;
use futures::task::LocalSpawnExt;

#[coroutine_runtime::coroutine]
fn ready_loop(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(yield_!(future::ready(black_box(i))));
    }
    sum
}

#[coroutine_runtime::coroutine(lazy)]
fn ready_loop_lazy(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(yield_!(future::ready(black_box(i))));
    }
    sum
}

async fn ready_loop_async(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(future::ready(black_box(i)).await);
    }
    sum
}

#[derive(Default)]
struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[coroutine_runtime::coroutine]
fn suspend_loop(n: u64) {
    for _ in 0..n {
        yield_!(moment);
    }
}

async fn suspend_loop_async(n: u64) {
    for _ in 0..n {
        YieldNow::default().await;
    }
}

fn run_on_local_pool(task: impl Future<Output = ()> + 'static) {
    let mut pool = LocalPool::new();
    pool.spawner().spawn_local(task).expect("a fresh pool");
    pool.run();
}

#[coroutine_runtime::coroutine(lazy)]
fn add_one_lazy(x: u64) -> u64 {
    x + 1
}

#[coroutine_runtime::coroutine]
fn add_one(x: u64) -> u64 {
    x + 1
}

#[allow(clippy::unused_async)]
async fn add_one_async(x: u64) -> u64 {
    x + 1
}

#[coroutine_runtime::coroutine]
fn call_lazy_loop(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(yield_!(add_one_lazy(black_box(i))));
    }
    sum
}

#[coroutine_runtime::coroutine]
fn call_eager_loop(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(yield_!(add_one(black_box(i))));
    }
    sum
}

async fn call_async_loop(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(add_one_async(black_box(i)).await);
    }
    sum
}

async fn call_boxed_loop(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(Box::pin(add_one_async(black_box(i))).await);
    }
    sum
}

#[coroutine_runtime::coroutine]
fn ping(n: u64, requests: UnboundedSender<u64>, mut replies: UnboundedReceiver<u64>) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        requests.unbounded_send(i).expect("the echo is running");
        sum = sum.wrapping_add(yield_!(replies.next()).expect("the echo replies"));
    }
    sum
}

#[coroutine_runtime::coroutine]
fn echo(mut requests: UnboundedReceiver<u64>, replies: UnboundedSender<u64>) {
    while let Some(value) = yield_!(requests.next()) {
        replies.unbounded_send(value + 1).expect("ping is waiting");
    }
}

async fn ping_async(
    n: u64,
    requests: UnboundedSender<u64>,
    mut replies: UnboundedReceiver<u64>,
) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        requests.unbounded_send(i).expect("the echo is running");
        sum = sum.wrapping_add(replies.next().await.expect("the echo replies"));
    }
    sum
}

async fn echo_async(mut requests: UnboundedReceiver<u64>, replies: UnboundedSender<u64>) {
    while let Some(value) = requests.next().await {
        replies.unbounded_send(value + 1).expect("ping is waiting");
    }
}

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
        "W5/async_fns_local_pool" => {
            let mut pool = LocalPool::new();
            pool.spawner()
                .spawn_local(echo_async(requests_rx, replies_tx))
                .expect("a fresh pool");
            pool.run_until(ping_async(n, requests, replies))
        }
        case => panic!("unknown case `{case}`"),
    };
    black_box(result);
}
