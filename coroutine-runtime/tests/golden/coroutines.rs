//! The coroutines of the golden-file test of `introspect`: in a file of their own so that their
//! lines stay put.

use coroutine_runtime::*;
use std::time::Duration;

#[coroutine_runtime::coroutine]
pub(crate) fn server(pool: ThreadPoolExecutor, job: std::sync::mpsc::Receiver<()>) -> u32 {
    let (a, b, c) = yield_!((handler(pool, job), napper(), callback_user()));
    a + b + c
}

#[coroutine_runtime::coroutine]
fn handler(pool: ThreadPoolExecutor, job: std::sync::mpsc::Receiver<()>) -> u32 {
    let (a, ()) = yield_!((
        vec![query(), query()],
        pool.submit(move || job.recv().unwrap())
    ));
    a.iter().sum::<u32>()
}

#[coroutine_runtime::coroutine]
fn query() -> u32 {
    yield_!(futures::future::pending::<u32>())
}

#[coroutine_runtime::coroutine]
fn napper() -> u32 {
    yield_!(sleep(Duration::from_secs(3600)));
    1
}

#[coroutine_runtime::coroutine]
fn callback_user() -> u32 {
    yield_!(Task::new(|callback: Callback<u32>| std::mem::forget(
        callback
    )))
    .unwrap_or(0)
}

pub(crate) struct Service;

impl Service {
    #[coroutine_runtime::coroutine]
    pub(crate) fn method(&self) {
        yield_!(futures::future::pending::<()>());
    }
}

coroutines! {
    pub(crate) fn bare() {
        yield futures::future::pending::<()>();
    }
}
