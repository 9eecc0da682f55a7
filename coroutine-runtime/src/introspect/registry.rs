//! The bookkeeping behind [`snapshot`](super::snapshot): a table of slots, one per suspended
//! coroutine, and a per-thread stack of the yields being polled.
//!
//! # The slots
//!
//! Every slot lives in a chunk of [`CHUNK`] slots; chunks are allocated once and never freed, so
//! a slot is named by its index. Every field is an atomic, written by one thread at a time (the
//! thread that holds the yield the slot describes) and read by [`read_all`] from any thread under
//! a sequence lock: the writer makes `seq` odd while it writes, and the reader retries a slot whose
//! `seq` was odd or changed while it read. Neither side ever waits on the other.
//!
//! Free slots are kept in a per-thread list (no lock); a thread that has none takes a batch from
//! the global list, and a thread that ends gives its list back.
//!
//! # The stack
//!
//! Each [`Tracked`] yield pushes a frame while it polls the future it waits on, so a coroutine
//! polled inside it (an element of a yielded `Vec`, the body of a yielded sub-coroutine) finds its
//! parent on top of the stack. A frame has a slot only once the yield has suspended; a child that
//! suspends while its parent's yield is still on its first poll gives the parent a slot there and
//! then (marked running), which the parent takes over when its poll returns.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

/// A yield site: where in the user's code a `yield_!` stands, and in which coroutine fn.
///
/// Not public API: one `static` per `yield_!`, made by the macro's expansion.
#[derive(Debug)]
pub struct Site {
    file: &'static str,
    line: u32,
    column: u32,
    /// The type name of an item declared at the yield: the fn's path plus `::{{closure}}::…`.
    type_name: fn() -> &'static str,
    /// The site's index in [`SITES`] plus one; 0 until the site first suspends.
    id: AtomicU32,
}

impl Site {
    /// A site at `file:line:column` in the coroutine fn whose path `type_name` gives.
    #[must_use]
    pub const fn new(
        file: &'static str,
        line: u32,
        column: u32,
        type_name: fn() -> &'static str,
    ) -> Self {
        Site {
            file,
            line,
            column,
            type_name,
            id: AtomicU32::new(0),
        }
    }

    /// The coroutine fn's path: `crate::module::fn`.
    pub(crate) fn name(&self) -> &'static str {
        let full = (self.type_name)();
        // `a::b::f::{{closure}}::__CoroutineSite`: the async block of `f`, then the marker item.
        match full.find("::{{closure}}") {
            Some(end) => &full[..end],
            None => full.rsplit_once("::").map_or(full, |(path, _)| path),
        }
    }

    pub(crate) fn location(&self) -> (&'static str, u32, u32) {
        (self.file, self.line, self.column)
    }

    /// The site's id, registering it on first use.
    fn id(&'static self) -> u32 {
        let id = self.id.load(Ordering::Acquire);
        if id != 0 {
            return id;
        }
        let mut sites = SITES.write().unwrap_or_else(PoisonError::into_inner);
        // Another thread may have registered it meanwhile.
        let id = self.id.load(Ordering::Acquire);
        if id != 0 {
            return id;
        }
        sites.push(self);
        let id = u32::try_from(sites.len()).expect("fewer than 2^31 yield sites");
        self.id.store(id, Ordering::Release);
        id
    }
}

/// Every site that has suspended once, by id − 1.
static SITES: RwLock<Vec<&'static Site>> = RwLock::new(Vec::new());

/// The site of id `id`.
pub(crate) fn sites() -> Vec<&'static Site> {
    SITES.read().unwrap_or_else(PoisonError::into_inner).clone()
}

/// What a suspended coroutine waits on, where the runtime knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Detail {
    #[default]
    Unknown,
    /// A [`sleep`](crate::sleep) that ends at this many nanoseconds after [`base`].
    Sleep(u64),
    /// A [`with_timeout`](crate::with_timeout) that gives up at this many nanoseconds after
    /// [`base`].
    Timeout(u64),
    /// A job on a [`ThreadPoolExecutor`](crate::ThreadPoolExecutor).
    PoolJob,
    /// A [`Task`](crate::Task)'s callback.
    Callback,
    /// A yielded collection (or `multi`, `try_multi`): this many of this many still pending.
    Collection { pending: u32, total: u32 },
}

const TAG_SHIFT: u32 = 60;

impl Detail {
    fn encode(self) -> u64 {
        let (tag, value) = match self {
            Detail::Unknown => (0, 0),
            Detail::Sleep(at) => (1, at),
            Detail::Timeout(at) => (2, at),
            Detail::PoolJob => (3, 0),
            Detail::Callback => (4, 0),
            Detail::Collection { pending, total } => (
                5,
                (u64::from(pending.min(0x3FFF_FFFF)) << 30) | u64::from(total.min(0x3FFF_FFFF)),
            ),
        };
        (tag << TAG_SHIFT) | (value & ((1 << TAG_SHIFT) - 1))
    }

    fn decode(word: u64) -> Self {
        let value = word & ((1 << TAG_SHIFT) - 1);
        match word >> TAG_SHIFT {
            1 => Detail::Sleep(value),
            2 => Detail::Timeout(value),
            3 => Detail::PoolJob,
            4 => Detail::Callback,
            5 => Detail::Collection {
                pending: u32::try_from(value >> 30).unwrap_or(u32::MAX),
                total: u32::try_from(value & 0x3FFF_FFFF).unwrap_or(u32::MAX),
            },
            _ => Detail::Unknown,
        }
    }
}

/// The instant every timestamp counts from.
pub(crate) fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// Nanoseconds since [`base`].
pub(crate) fn now() -> u64 {
    u64::try_from(base().elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Nanoseconds from [`base`] to `instant` (0 if before).
#[allow(dead_code)]
pub(crate) fn nanos_at(instant: Instant) -> u64 {
    u64::try_from(instant.saturating_duration_since(base()).as_nanos()).unwrap_or(u64::MAX)
}

/// Set in a slot's `site` word while the coroutine is being polled.
const RUNNING: u32 = 1 << 31;

/// One suspended (or running) coroutine.
#[derive(Default)]
struct Slot {
    /// Odd while being written.
    seq: AtomicU32,
    /// Incremented each time the slot is taken: with the index, names this coroutine.
    generation: AtomicU32,
    /// The site's id (0: the slot is free), plus [`RUNNING`].
    site: AtomicU32,
    /// When it suspended at this site, in nanoseconds since [`base`].
    since: AtomicU64,
    /// The parent's [`Key`], or 0.
    parent: AtomicU64,
    /// [`Detail::encode`].
    detail: AtomicU64,
}

impl Slot {
    /// Runs `write` as the slot's one writer, under the sequence lock.
    fn write(&self, write: impl FnOnce(&Self)) {
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        write(self);
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// A consistent copy of the slot, or `None` if it is free or kept changing.
    fn read(&self, index: u32) -> Option<Entry> {
        for _ in 0..8 {
            let before = self.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let generation = self.generation.load(Ordering::Relaxed);
            let site = self.site.load(Ordering::Relaxed);
            let since = self.since.load(Ordering::Relaxed);
            let parent = self.parent.load(Ordering::Relaxed);
            let detail = self.detail.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) != before {
                continue;
            }
            if site & !RUNNING == 0 {
                return None;
            }
            return Some(Entry {
                key: key(index, generation),
                site: site & !RUNNING,
                running: site & RUNNING != 0,
                since,
                parent,
                detail: Detail::decode(detail),
            });
        }
        None
    }
}

/// A slot as [`read_all`] found it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub(crate) key: u64,
    pub(crate) site: u32,
    pub(crate) running: bool,
    pub(crate) since: u64,
    pub(crate) parent: u64,
    pub(crate) detail: Detail,
}

/// Names one occupant of one slot: index + 1 in the high half, generation in the low half.
fn key(index: u32, generation: u32) -> u64 {
    (u64::from(index + 1) << 32) | u64::from(generation)
}

/// The index of the slot a [`key`] names.
pub(crate) fn key_index(key: u64) -> Option<usize> {
    usize::try_from(key >> 32).ok()?.checked_sub(1)
}

/// Slots per chunk.
const CHUNK: usize = 1024;

type Chunk = Arc<[Slot]>;

/// Every chunk, in index order.
static CHUNKS: RwLock<Vec<Chunk>> = RwLock::new(Vec::new());

/// Free slots given back by threads that ended or had too many.
static FREE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// A thread's free slots, and the chunks it has seen.
struct Local {
    free: Vec<u32>,
    chunks: Vec<Chunk>,
}

/// Most free slots a thread keeps before giving some back.
const LOCAL_FREE_MAX: usize = 4 * CHUNK;

impl Drop for Local {
    fn drop(&mut self) {
        if !self.free.is_empty() {
            FREE.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .append(&mut self.free);
        }
    }
}

thread_local! {
    static LOCAL: RefCell<Local> = const {
        RefCell::new(Local { free: Vec::new(), chunks: Vec::new() })
    };
}

impl Local {
    /// The slot of index `index`.
    fn slot(&mut self, index: u32) -> &Slot {
        let index = index as usize;
        if index / CHUNK >= self.chunks.len() {
            self.chunks
                .clone_from(&CHUNKS.read().unwrap_or_else(PoisonError::into_inner));
        }
        &self.chunks[index / CHUNK][index % CHUNK]
    }

    /// A free slot's index.
    fn take(&mut self) -> u32 {
        if let Some(index) = self.free.pop() {
            return index;
        }
        {
            let mut global = FREE.lock().unwrap_or_else(PoisonError::into_inner);
            let keep = global.len().saturating_sub(CHUNK);
            self.free.extend(global.drain(keep..));
        }
        if let Some(index) = self.free.pop() {
            return index;
        }
        let mut chunks = CHUNKS.write().unwrap_or_else(PoisonError::into_inner);
        let first = u32::try_from(chunks.len() * CHUNK).expect("fewer than 2^32 slots");
        chunks.push((0..CHUNK).map(|_| Slot::default()).collect());
        self.chunks.clone_from(&chunks);
        drop(chunks);
        // Hand them out lowest first.
        let end = first + u32::try_from(CHUNK).expect("a small chunk");
        self.free.extend((first + 1..end).rev());
        first
    }

    fn give_back(&mut self, index: u32) {
        self.free.push(index);
        if self.free.len() > LOCAL_FREE_MAX {
            let half = self.free.len() / 2;
            FREE.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend(self.free.drain(..half));
        }
    }
}

/// Runs `f` on the slot of index `index`, from any thread (even one whose locals are gone).
fn with_slot<T>(index: u32, f: impl FnOnce(&Slot) -> T) -> T {
    let mut f = Some(f);
    let done = LOCAL.try_with(|local| {
        let mut local = local.borrow_mut();
        (f.take().expect("called once"))(local.slot(index))
    });
    if let Ok(value) = done {
        return value;
    }
    let chunks = CHUNKS.read().unwrap_or_else(PoisonError::into_inner);
    let index = index as usize;
    (f.take().expect("not called above"))(&chunks[index / CHUNK][index % CHUNK])
}

/// A slot a [`Tracked`] yield holds: the slot's index + 1.
type Handle = NonZeroU32;

/// Takes a slot for a coroutine at `site`; returns its handle and key.
fn register(site: u32, running: bool, parent: u64, detail: Detail) -> (Handle, u64) {
    let since = now();
    let fill = |slot: &Slot| {
        let generation = slot.generation.load(Ordering::Relaxed).wrapping_add(1);
        slot.write(|slot| {
            slot.generation.store(generation, Ordering::Relaxed);
            slot.since.store(since, Ordering::Relaxed);
            slot.parent.store(parent, Ordering::Relaxed);
            slot.detail.store(detail.encode(), Ordering::Relaxed);
            slot.site
                .store(site | if running { RUNNING } else { 0 }, Ordering::Relaxed);
        });
        generation
    };
    let done = LOCAL.try_with(|local| {
        let mut local = local.borrow_mut();
        let index = local.take();
        (index, fill(local.slot(index)))
    });
    let (index, generation) = done.unwrap_or_else(|_| {
        // The thread is ending: take a slot from the global list, or a new chunk's.
        let mut local = Local {
            free: Vec::new(),
            chunks: Vec::new(),
        };
        let index = local.take();
        let generation = fill(local.slot(index));
        (index, generation)
    });
    (
        Handle::new(index + 1).expect("index + 1"),
        key(index, generation),
    )
}

/// Frees the slot of `handle`.
fn unregister(handle: Handle) {
    let index = handle.get() - 1;
    with_slot(index, |slot| {
        slot.write(|slot| slot.site.store(0, Ordering::Relaxed));
    });
    let returned = LOCAL.try_with(|local| local.borrow_mut().give_back(index));
    if returned.is_err() {
        FREE.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(index);
    }
}

/// Every occupied slot, read without waiting for any writer.
pub(crate) fn read_all() -> Vec<Entry> {
    let chunks = CHUNKS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let mut entries = Vec::new();
    for (c, chunk) in chunks.iter().enumerate() {
        for (i, slot) in chunk.iter().enumerate() {
            let index = u32::try_from(c * CHUNK + i).expect("fewer than 2^32 slots");
            if let Some(entry) = slot.read(index) {
                entries.push(entry);
            }
        }
    }
    entries
}

/// How many frames the stack keeps; deeper yields still work, without parents.
const MAX_DEPTH: usize = 128;

/// A yield being polled on this thread.
struct Frame {
    site: Cell<Option<&'static Site>>,
    /// Its slot, once it has one.
    handle: Cell<Option<Handle>>,
    /// What it waits on, as the runtime's futures polled under it said.
    detail: Cell<Detail>,
}

/// The yields being polled on this thread, outermost first.
struct Stack {
    depth: Cell<usize>,
    frames: [Frame; MAX_DEPTH],
}

thread_local! {
    static STACK: Stack = const {
        Stack {
            depth: Cell::new(0),
            frames: [const {
                Frame {
                    site: Cell::new(None),
                    handle: Cell::new(None),
                    detail: Cell::new(Detail::Unknown),
                }
            }; MAX_DEPTH],
        }
    };
}

/// Records what the innermost yield being polled on this thread waits on: called by the
/// runtime's own futures when they return `Pending`.
pub(crate) fn waits_on(detail: Detail) {
    STACK.with(|stack| {
        let depth = stack.depth.get();
        if let Some(frame) = depth.checked_sub(1).and_then(|top| stack.frames.get(top)) {
            frame.detail.set(detail);
        }
    });
}

/// The key of the frame at `index` (0: none), giving it a running slot if it has none yet.
fn materialize(stack: &Stack, index: usize) -> u64 {
    let Some(frame) = stack.frames.get(index) else {
        return 0;
    };
    let Some(site) = frame.site.get() else {
        return 0;
    };
    if let Some(handle) = frame.handle.get() {
        return with_slot(handle.get() - 1, |slot| {
            key(handle.get() - 1, slot.generation.load(Ordering::Relaxed))
        });
    }
    let parent = index.checked_sub(1).map_or(0, |up| materialize(stack, up));
    let (handle, key) = register(site.id(), true, parent, Detail::Unknown);
    frame.handle.set(Some(handle));
    key
}

/// The sites of the yields being polled on this thread, outermost first.
pub(crate) fn current() -> Vec<&'static Site> {
    STACK
        .try_with(|stack| {
            let depth = stack.depth.get().min(MAX_DEPTH);
            stack.frames[..depth]
                .iter()
                .filter_map(|frame| frame.site.get())
                .collect()
        })
        .unwrap_or_default()
}

/// Puts the stack's depth back when a poll returns or unwinds.
struct Pop<'a>(&'a Cell<usize>, usize);

impl Drop for Pop<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.set(self.1);
    }
}

pin_project! {
    /// The future a `yield_!` waits on, with the `introspect` feature: the yielded future, plus
    /// the slot that shows its coroutine as suspended at the yield's site while it waits.
    ///
    /// Not public API.
    pub struct Tracked<F> {
        #[pin]
        inner: F,
        site: &'static Site,
        handle: Option<Handle>,
    }

    impl<F> PinnedDrop for Tracked<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(handle) = this.project().handle.take() {
                unregister(handle);
            }
        }
    }
}

/// The future a `yield_!(value)` waits on, which records `site` while it waits.
///
/// Not public API: what the macro's expansion calls with the `introspect` feature.
#[inline]
pub fn yielded_at<K, Y: crate::Yieldable<K>>(value: Y, site: &'static Site) -> Tracked<Y::Future> {
    Tracked {
        inner: value.into_yielded(),
        site,
        handle: None,
    }
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let site = *this.site;
        let handle = *this.handle;
        STACK.with(|stack| {
            if let Some(handle) = handle {
                set_running(handle, site, true);
            }
            let depth = stack.depth.get();
            if let Some(frame) = stack.frames.get(depth) {
                frame.site.set(Some(site));
                frame.handle.set(handle);
                frame.detail.set(Detail::Unknown);
            }
            stack.depth.set(depth + 1);
            let pop = Pop(&stack.depth, depth);
            let result = this.inner.poll(cx);
            drop(pop);
            match result {
                Poll::Ready(output) => {
                    // A child may have given this yield a slot during the poll.
                    let handle = stack.frames.get(depth).map_or(handle, |f| f.handle.get());
                    if let Some(handle) = handle {
                        *this.handle = None;
                        unregister(handle);
                    }
                    Poll::Ready(output)
                }
                Poll::Pending => {
                    *this.handle = Some(suspended(stack, depth, site, handle));
                    Poll::Pending
                }
            }
        })
    }
}

/// Sets or clears the running mark of `handle`'s slot.
fn set_running(handle: Handle, site: &'static Site, running: bool) {
    let id = site.id() | if running { RUNNING } else { 0 };
    with_slot(handle.get() - 1, |slot| {
        slot.site.store(id, Ordering::Relaxed);
    });
}

/// Records that the yield at `depth` of `stack` has suspended; returns its slot.
#[cold]
#[inline(never)]
fn suspended(stack: &Stack, depth: usize, site: &'static Site, before: Option<Handle>) -> Handle {
    let frame = stack.frames.get(depth);
    let handle = frame.map_or(before, |f| f.handle.get());
    let detail = frame.map_or(Detail::Unknown, |f| f.detail.get());
    let parent = depth.checked_sub(1).map_or(0, |up| materialize(stack, up));
    match handle {
        None => register(site.id(), false, parent, detail).0,
        Some(handle) => {
            let id = site.id();
            with_slot(handle.get() - 1, |slot| {
                let fresh = slot.site.load(Ordering::Relaxed) & RUNNING != 0 && before.is_none();
                slot.write(|slot| {
                    if fresh {
                        // Given a slot by a child during this very poll: suspended from now.
                        slot.since.store(now(), Ordering::Relaxed);
                    }
                    slot.parent.store(parent, Ordering::Relaxed);
                    slot.detail.store(detail.encode(), Ordering::Relaxed);
                    slot.site.store(id, Ordering::Relaxed);
                });
            });
            handle
        }
    }
}

/// How long ago `since` (nanoseconds after [`base`]) was.
pub(crate) fn age(since: u64, now: u64) -> Duration {
    Duration::from_nanos(now.saturating_sub(since))
}
