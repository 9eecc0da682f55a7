//! `Task` and `task!`: callback-style functions as yieldable futures.

use coroutine_runtime::*;
use coroutine_tests::{assert_send_sync, block_on, panic_message_of, poll_once};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::thread;
use std::time::Duration;

/// A callback-style API: calls back with `a + b` from another thread, after a while.
fn add_later(a: u32, b: u32, callback: impl FnOnce(u32) + Send + 'static) {
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        callback(a + b);
    });
}

/// A callback-style API that takes a boxed callback.
fn boxed_api(value: &'static str, callback: Callback<&'static str>) {
    callback(value);
}

#[coroutine_runtime::coroutine]
fn call_task() -> Result<u32, CallbackDropped> {
    let sum = yield_!(Task::new(|callback| add_later(20, 1, callback)))?;
    let doubled = yield_!(task!(add_later(sum, sum)))?;
    Ok(doubled)
}

#[test]
fn task_resolves_to_the_value_the_callback_was_called_with_from_another_thread() {
    assert_eq!(block_on("`call_task()`", call_task()), Ok(42));
}

#[test]
fn task_runs_the_function_at_once_inside_new() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let inner = log.clone();
    let task = Task::new(move |callback| {
        inner.lock().unwrap().push("called");
        callback(7);
    });
    assert_eq!(*log.lock().unwrap(), ["called"]);
    assert_eq!(block_on("`task`", task), Ok(7));
}

#[test]
fn task_macro_appends_the_callback_to_paths_methods_and_trailing_commas() {
    struct Client {
        base: u32,
    }
    impl Client {
        fn fetch(&self, offset: u32, callback: impl FnOnce(u32) + Send + 'static) {
            callback(self.base + offset);
        }
    }
    mod api {
        pub(crate) fn answer(callback: impl FnOnce(u32)) {
            callback(42);
        }
    }
    let client = Client { base: 40 };
    let values = block_on("the test body", async {
        (
            task!(client.fetch(2)).await,
            task!(api::answer()).await,
            task!(boxed_api("boxed",)).await,
            task!(add_later(1, 2,)).await,
        )
    });
    assert_eq!(values, (Ok(42), Ok(42), Ok("boxed"), Ok(3)));
}

#[test]
fn a_callback_dropped_without_being_called_fails_the_yield_instead_of_hanging() {
    #[coroutine_runtime::coroutine]
    fn forgets() -> Result<u32, CallbackDropped> {
        let value = yield_!(Task::new(|callback: Callback<u32>| {
            // Dropped later, on another thread, never called.
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(10));
                drop(callback);
            });
        }))?;
        Ok(value + 1)
    }
    let error = block_on("`forgets()`", forgets()).unwrap_err();
    assert_eq!(error, CallbackDropped::new());
    assert_eq!(
        error.to_string(),
        "the callback was dropped without being called"
    );
    let _: &dyn std::error::Error = &error;
}

#[test]
fn a_panic_in_the_wrapped_function_surfaces_at_the_yield_not_at_new() {
    #[coroutine_runtime::coroutine]
    fn panics_in_function(log: Arc<Mutex<Vec<&'static str>>>) -> Result<u32, CallbackDropped> {
        let task = Task::new(|_callback: Callback<u32>| panic!("function failed"));
        log.lock().unwrap().push("after new");
        yield_!(task)
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let running = panics_in_function(log.clone());
    assert_eq!(*log.lock().unwrap(), ["after new"]);
    let message = panic_message_of(|| block_on("`running`", running));
    assert_eq!(message, "function failed");
}

#[test]
fn a_task_is_pending_until_the_callback_is_called() {
    let slot: Arc<Mutex<Option<Callback<u32>>>> = Arc::default();
    let keeper = slot.clone();
    let mut task = Task::new(move |callback| *keeper.lock().unwrap() = Some(callback));
    assert_eq!(poll_once(&mut task), Poll::Pending);
    let callback = slot.lock().unwrap().take().unwrap();
    callback(5);
    assert_eq!(poll_once(&mut task), Poll::Ready(Ok(5)));
}

#[test]
fn calling_the_callback_after_the_task_was_dropped_is_harmless() {
    let slot: Arc<Mutex<Option<Callback<String>>>> = Arc::default();
    let keeper = slot.clone();
    let task = Task::new(move |callback| *keeper.lock().unwrap() = Some(callback));
    drop(task);
    let callback = slot.lock().unwrap().take().unwrap();
    callback("nobody listens".to_owned());
}

#[test]
fn tasks_run_on_the_io_loop() {
    let io_loop = IoLoop::new();
    assert_eq!(io_loop.run_sync(call_task), Ok(42));
}

#[test]
fn a_task_is_send_and_sync_so_a_coroutine_holding_one_is_too() {
    let task = assert_send_sync(Task::new(|callback| callback(1_u32)));
    assert_eq!(block_on("`task`", task), Ok(1));
    // A task that keeps its function's panic for the poll is `Sync` as well.
    let panicked = assert_send_sync(Task::<u32>::new(|_| panic!("kept for the poll")));
    let message = panic_message_of(|| block_on("`panicked`", panicked));
    assert_eq!(message, "kept for the poll");
    assert_eq!(
        block_on(
            "`assert_send_sync(call_task())`",
            assert_send_sync(call_task())
        ),
        Ok(42)
    );
}
