//! A coroutine dropped while suspended, before it was ever awaited, is reported once through
//! `tracing`, as asyncio reports "coroutine … was never awaited".

use coroutine_runtime::*;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One captured event: its level and its fields, `name=value`.
#[derive(Debug, Clone)]
struct Captured {
    level: Level,
    fields: Vec<String>,
}

/// A subscriber that keeps every event.
#[derive(Default, Clone)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

impl Capture {
    fn events(&self) -> Vec<Captured> {
        self.0.lock().unwrap().clone()
    }
}

struct Fields<'a>(&'a mut Vec<String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push(format!("{}={value:?}", field.name()));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push(format!("{}={value}", field.name()));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(Captured {
            level: *event.metadata().level(),
            fields,
        });
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[coroutine_runtime::coroutine]
fn fire_and_forget(log: Arc<Mutex<Vec<&'static str>>>) {
    log.lock().unwrap().push("started");
    yield_!(moment);
    log.lock().unwrap().push("never gets here");
}

#[coroutine_runtime::coroutine]
fn finishes_at_once() -> u32 {
    1
}

#[test]
fn a_coroutine_dropped_before_it_was_awaited_is_reported_once_by_name() {
    let capture = Capture::default();
    let log = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::with_default(capture.clone(), || {
        drop(fire_and_forget(log.clone())); // Tornado's habit: call it and forget it
    });
    assert_eq!(*log.lock().unwrap(), ["started"]);
    let events = capture.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].level, Level::WARN);
    let fields = events[0].fields.join(" ");
    assert!(
        fields.contains("coroutine=never_awaited::fire_and_forget"),
        "{fields}"
    );
    assert!(
        fields.contains("was dropped before it was ever awaited"),
        "{fields}"
    );
}

#[test]
fn awaited_finished_or_polled_coroutines_are_not_reported() {
    let capture = Capture::default();
    let log = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::with_default(capture.clone(), || {
        // Awaited to the end.
        futures::executor::block_on(fire_and_forget(log.clone()));
        // Finished during the call: nothing was lost.
        drop(finishes_at_once());
        // Polled once, then dropped (cancelled): it was awaited.
        let mut running = fire_and_forget(log.clone());
        assert!(coroutine_tests::poll_once(&mut running).is_pending());
        drop(running);
        // Spawned in the background, then the loop dropped.
        let io_loop = IoLoop::new();
        let background = log.clone();
        io_loop.spawn_callback(move || fire_and_forget(background));
        io_loop.run_sync(|| async {});
    });
    assert!(capture.events().is_empty(), "{:?}", capture.events());
}

#[test]
fn without_a_subscriber_dropping_it_is_silent_and_harmless() {
    let log = Arc::new(Mutex::new(Vec::new()));
    drop(fire_and_forget(log.clone()));
    assert_eq!(*log.lock().unwrap(), ["started"]);
}
