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
//! Free slots are kept per thread (no lock): those given back, and a range of a chunk never used
//! yet; a thread that has none takes a batch from the global list, one that holds too many gives
//! half back, and a thread that ends gives back all it has.
//!
//! # The stack
//!
//! Each coroutine's [`Body`] pushes a frame while it polls the body, and the [`Tracked`] yield
//! being polled inside it writes its site there, so a coroutine polled inside it (an element of a
//! yielded `Vec`, the body of a yielded sub-coroutine) finds its parent on top of the stack. A
//! frame has a slot only once its coroutine has suspended; a child that suspends while its
//! parent's first poll is still running gives the parent a slot there and then (marked running),
//! which the parent takes over when its poll returns.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::marker::PhantomData;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};
use std::sync::{Mutex, OnceLock, PoisonError, RwLock};
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
    #[inline]
    fn id(&'static self) -> u32 {
        let id = self.id.load(Ordering::Acquire);
        if id != 0 {
            return id;
        }
        self.register()
    }

    /// Gives the site an id.
    #[cold]
    #[inline(never)]
    fn register(&'static self) -> u32 {
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

/// A tick of the coarse clock: 2^20 ns, about a millisecond.
const TICK_SHIFT: u32 = 20;

/// How often the clock thread advances [`TICKS`].
const TICK_PERIOD: Duration = Duration::from_millis(1);

/// The coarse clock: ticks since [`base`], advanced by a thread of its own (see [`ticks`]).
static TICKS: AtomicU32 = AtomicU32::new(0);

/// Ticks since [`base`], from the coarse clock: one atomic load. A suspension records this
/// rather than reading the system clock, which costs tens of nanoseconds (more on some virtual
/// machines). The clock's thread starts at the first call and wakes every [`TICK_PERIOD`]; the
/// value is behind the true time by at most that period plus a tick, so an age is over by at
/// most about 2 ms.
#[inline]
fn ticks() -> u32 {
    static CLOCK: OnceLock<()> = OnceLock::new();
    CLOCK.get_or_init(start_clock);
    TICKS.load(Ordering::Relaxed)
}

/// Nanoseconds since [`base`] as ticks (truncated to 32 bits: they wrap after 52 days).
fn to_ticks(nanos: u64) -> u32 {
    #[allow(
        clippy::cast_possible_truncation,
        reason = "ticks wrap, see `since_nanos`"
    )]
    let ticks = (nanos >> TICK_SHIFT) as u32;
    ticks
}

/// Starts the thread that advances [`TICKS`].
#[cold]
fn start_clock() {
    TICKS.store(to_ticks(now()), Ordering::Relaxed);
    let spawned = std::thread::Builder::new()
        .name("coroutine-introspect-clock".into())
        .spawn(|| {
            loop {
                std::thread::sleep(TICK_PERIOD);
                TICKS.store(to_ticks(now()), Ordering::Relaxed);
            }
        });
    // Without a thread, every age counts from the start; the tree itself is unaffected.
    drop(spawned);
}

/// The nanoseconds since [`base`] of a tick count recorded at most 52 days before `now`.
fn since_nanos(ticks: u32, now: u64) -> u64 {
    let back = u64::from(to_ticks(now).wrapping_sub(ticks));
    ((now >> TICK_SHIFT).saturating_sub(back)) << TICK_SHIFT
}

/// Set in a slot's `site` word while the coroutine is being polled.
const RUNNING: u32 = 1 << 31;

/// Set in a slot's `site` word while its parent is only the coroutine that was being polled
/// when it first suspended (its caller, for a coroutine started eagerly): the first coroutine
/// that polls it afterwards becomes its parent.
const PROVISIONAL: u32 = 1 << 30;

/// The bits of a slot's `site` word that are the site's id.
const SITE_ID: u32 = PROVISIONAL - 1;

/// One suspended (or running) coroutine.
#[derive(Default)]
struct Slot {
    /// The sequence lock in the low half (odd while being written), and in the high half the
    /// generation: incremented each time the slot is taken, with the index it names this
    /// coroutine.
    seq: AtomicU32,
    /// The site's id (0: the slot is free), plus [`RUNNING`].
    site: AtomicU32,
    /// When it suspended at this site, in [`ticks`].
    since: AtomicU32,
    /// The parent's key, [`packed`], or 0.
    parent: AtomicU32,
    /// [`Detail::encode`], high and low halves.
    detail: [AtomicU32; 2],
}

impl Slot {
    /// Stores a [`Detail::encode`]d word.
    fn store_detail(&self, value: u64) {
        self.detail[0].store((value >> 32) as u32, Ordering::Relaxed);
        #[allow(clippy::cast_possible_truncation, reason = "the low half")]
        self.detail[1].store(value as u32, Ordering::Relaxed);
    }

    fn load_detail(&self) -> u64 {
        (u64::from(self.detail[0].load(Ordering::Relaxed)) << 32)
            | u64::from(self.detail[1].load(Ordering::Relaxed))
    }

    /// The slot's generation (16 bits).
    fn generation(&self) -> u32 {
        self.seq.load(Ordering::Relaxed) >> 16
    }

    /// Runs `write` as the slot's one writer, under the sequence lock; `next_generation` also
    /// starts a new generation (for a new occupant), which it returns.
    fn write(&self, next_generation: bool, write: impl FnOnce(&Self)) -> u32 {
        let word = self.seq.load(Ordering::Relaxed);
        let generation = (word >> 16).wrapping_add(u32::from(next_generation)) & 0xFFFF;
        let seq = |step: u32| (generation << 16) | (word.wrapping_add(step) & 0xFFFF);
        self.seq.store(seq(1), Ordering::Relaxed);
        fence(Ordering::Release);
        write(self);
        self.seq.store(seq(2), Ordering::Release);
        generation
    }

    /// A consistent copy of the slot, or `None` if it is free or kept changing.
    fn read(&self, index: u32, now: u64) -> Option<Entry> {
        for _ in 0..8 {
            let before = self.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let generation = before >> 16;
            let site = self.site.load(Ordering::Relaxed);
            let since = self.since.load(Ordering::Relaxed);
            let parent = self.parent.load(Ordering::Relaxed);
            let detail = self.load_detail();
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) != before {
                continue;
            }
            if site & SITE_ID == 0 {
                return None;
            }
            return Some(Entry {
                key: key(index, generation),
                site: site & SITE_ID,
                running: site & RUNNING != 0,
                since: since_nanos(since, now),
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
    /// The parent's key, [`packed`].
    pub(crate) parent: u32,
    pub(crate) detail: Detail,
}

/// Bits of a packed key that hold the slot's index + 1.
const PACKED_INDEX_BITS: u32 = 23;

/// A key in 32 bits, for a slot's parent: the index + 1 in the low [`PACKED_INDEX_BITS`] bits,
/// the low bits of the generation above. A parent that ended and whose slot was taken again
/// hundreds of times while a child of it lived on could be mistaken for the slot's new
/// occupant; a child's parent is set again each time it suspends.
fn packed(key: u64) -> u32 {
    let index = (key >> 32) as u32;
    #[allow(
        clippy::cast_possible_truncation,
        reason = "the low bits of the generation"
    )]
    let generation = key as u32;
    index | (generation << PACKED_INDEX_BITS)
}

/// Whether `packed` is the packed form of `key`.
pub(crate) fn is_packed(packed: u32, key: u64) -> bool {
    packed != 0 && self::packed(key) == packed
}

/// The slot index of a [`packed`] key.
pub(crate) fn packed_index(packed: u32) -> Option<usize> {
    usize::try_from(packed & ((1 << PACKED_INDEX_BITS) - 1))
        .ok()?
        .checked_sub(1)
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

/// Most chunks: 4,194,304 coroutines suspended at once (fewer than 2^[`PACKED_INDEX_BITS`]).
/// Past that, a coroutine is not shown.
const MAX_CHUNKS: usize = 4096;

/// Every chunk, by index; allocated on first use, never freed.
static CHUNKS: [OnceLock<Box<[Slot]>>; MAX_CHUNKS] = [const { OnceLock::new() }; MAX_CHUNKS];

/// How many chunks have been allocated.
static CHUNK_COUNT: Mutex<usize> = Mutex::new(0);

/// The slot of index `index`, if its chunk exists.
#[inline]
fn slot(index: u32) -> Option<&'static Slot> {
    let index = index as usize;
    let chunk = CHUNKS.get(index / CHUNK)?.get()?;
    chunk.get(index % CHUNK)
}

/// Free slots given back by threads that ended or had too many.
static FREE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// A thread's free slots: those given back, and a range of a chunk never used yet.
struct Local {
    free: Vec<u32>,
    next: u32,
    end: u32,
}

/// Most free slots a thread keeps before giving some back.
const LOCAL_FREE_MAX: usize = 4 * CHUNK;

impl Drop for Local {
    fn drop(&mut self) {
        if !self.free.is_empty() || self.next < self.end {
            let mut global = FREE.lock().unwrap_or_else(PoisonError::into_inner);
            global.append(&mut self.free);
            global.extend(self.next..self.end);
        }
    }
}

impl Local {
    const fn new() -> Self {
        Local {
            free: Vec::new(),
            next: 0,
            end: 0,
        }
    }
}

thread_local! {
    static LOCAL: RefCell<Local> = const { RefCell::new(Local::new()) };
}

impl Local {
    /// A free slot's index; `None` when every chunk is taken.
    fn take(&mut self) -> Option<u32> {
        if let Some(index) = self.free.pop() {
            return Some(index);
        }
        if self.next < self.end {
            self.next += 1;
            return Some(self.next - 1);
        }
        {
            let mut global = FREE.lock().unwrap_or_else(PoisonError::into_inner);
            let keep = global.len().saturating_sub(CHUNK);
            self.free.extend(global.drain(keep..));
        }
        if let Some(index) = self.free.pop() {
            return Some(index);
        }
        let mut count = CHUNK_COUNT.lock().unwrap_or_else(PoisonError::into_inner);
        let cell = CHUNKS.get(*count)?;
        let first = u32::try_from(*count * CHUNK).expect("fewer than 2^32 slots");
        cell.get_or_init(|| (0..CHUNK).map(|_| Slot::default()).collect());
        *count += 1;
        drop(count);
        // Hand them out lowest first.
        self.next = first + 1;
        self.end = first + u32::try_from(CHUNK).expect("a small chunk");
        Some(first)
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

/// A slot a [`Tracked`] yield holds: the slot's index + 1.
type Handle = NonZeroU32;

/// Takes a slot for a coroutine at `site`; returns its handle and key, or `None` when every
/// chunk is taken. Its parent is provisional (see [`PROVISIONAL`]).
fn register(site: u32, running: bool, parent: u64, detail: u64) -> Option<(Handle, u64)> {
    let index = LOCAL
        .try_with(|local| local.borrow_mut().take())
        .unwrap_or_else(|_| Local::new().take())?;
    let slot = slot(index)?;
    let since = ticks();
    let generation = slot.write(true, |slot| {
        slot.since.store(since, Ordering::Relaxed);
        slot.parent.store(packed(parent), Ordering::Relaxed);
        slot.store_detail(detail);
        slot.site.store(
            site | PROVISIONAL | if running { RUNNING } else { 0 },
            Ordering::Relaxed,
        );
    });
    Some((Handle::new(index + 1)?, key(index, generation)))
}

/// Frees the slot of `handle`.
fn unregister(handle: Handle) {
    let index = handle.get() - 1;
    if let Some(slot) = slot(index) {
        slot.write(false, |slot| slot.site.store(0, Ordering::Relaxed));
    }
    let returned = LOCAL.try_with(|local| local.borrow_mut().give_back(index));
    if returned.is_err() {
        FREE.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(index);
    }
}

/// Every occupied slot, read without waiting for any writer.
pub(crate) fn read_all(now: u64) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (c, chunk) in CHUNKS.iter().map_while(OnceLock::get).enumerate() {
        for (i, slot) in chunk.iter().enumerate() {
            let index = u32::try_from(c * CHUNK + i).expect("fewer than 2^32 slots");
            if let Some(entry) = slot.read(index, now) {
                entries.push(entry);
            }
        }
    }
    entries
}

/// Whether the coroutine of a [`packed`] key still holds its slot.
fn alive_packed(packed: u32) -> bool {
    let Some(index) = packed_index(packed).and_then(|i| u32::try_from(i).ok()) else {
        return false;
    };
    slot(index).is_some_and(|slot| {
        is_packed(packed, key(index, slot.generation()))
            && slot.site.load(Ordering::Relaxed) & SITE_ID != 0
    })
}

/// Whether the coroutine `key` names still holds its slot.
fn alive(key: u64) -> bool {
    let Some(index) = key_index(key).and_then(|i| u32::try_from(i).ok()) else {
        return false;
    };
    slot(index).is_some_and(|slot| {
        key == self::key(index, slot.generation())
            && slot.site.load(Ordering::Relaxed) & SITE_ID != 0
    })
}

/// The second (third, …) coroutines waiting on a coroutine shown under another parent, as
/// `(parent, child)` keys: a future awaited through a shared handle. Pruned of dead keys as it
/// grows and at each snapshot.
static REFERENCES: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());

/// Above this many references, adding one first drops those whose coroutines are gone.
static REFERENCES_PRUNE_AT: AtomicU64 = AtomicU64::new(64);

/// Records that `parent` waits on `child` too, though `child` is shown under another parent.
#[cold]
fn add_reference(parent: u64, child: u64) {
    let mut references = REFERENCES.lock().unwrap_or_else(PoisonError::into_inner);
    if references.contains(&(parent, child)) {
        return;
    }
    if references.len() as u64 >= REFERENCES_PRUNE_AT.load(Ordering::Relaxed) {
        references.retain(|&(p, c)| alive(p) && alive(c));
        REFERENCES_PRUNE_AT.store((references.len() as u64 * 2).max(64), Ordering::Relaxed);
    }
    references.push((parent, child));
}

/// The references whose coroutines are both still there (those not alive are dropped from the
/// table); a snapshot keeps those whose coroutines it read.
pub(crate) fn references() -> Vec<(u64, u64)> {
    let mut references = REFERENCES.lock().unwrap_or_else(PoisonError::into_inner);
    references.retain(|&(p, c)| alive(p) && alive(c));
    references.clone()
}

/// How many frames the stack keeps; deeper coroutines still work, without parents.
const MAX_DEPTH: usize = 128;

/// A coroutine body being polled on this thread.
struct Frame {
    /// The yield it is polling, or polled last; the coroutine fn's own site before its first
    /// yield.
    site: Cell<Option<&'static Site>>,
    /// Its slot's handle once it has one (0: none), plus [`MOVED`].
    state: Cell<u64>,
    /// What its yield waits on, as the runtime's futures polled under it said: [`Detail::encode`].
    detail: Cell<u64>,
}

/// Set in a frame's `state` when a yield of its body finished during this poll: the body's next
/// suspension is a new one.
const MOVED: u64 = 1 << 32;

/// The handle in a frame's `state`.
fn handle_of(state: u64) -> Option<Handle> {
    #[allow(clippy::cast_possible_truncation, reason = "the low half")]
    Handle::new(state as u32)
}

/// The coroutine bodies being polled on this thread, outermost first.
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
                    state: Cell::new(0),
                    detail: Cell::new(0),
                }
            }; MAX_DEPTH],
        }
    };
}

impl Stack {
    /// The innermost frame, if any.
    #[inline]
    fn top(&self) -> Option<&Frame> {
        self.depth
            .get()
            .checked_sub(1)
            .and_then(|top| self.frames.get(top))
    }
}

/// Records what the innermost yield being polled on this thread waits on: called by the
/// runtime's own futures when they return `Pending`.
pub(crate) fn waits_on(detail: Detail) {
    STACK.with(|stack| {
        if let Some(frame) = stack.top() {
            frame.detail.set(detail.encode());
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
    let state = frame.state.get();
    if let Some(handle) = handle_of(state) {
        let index = handle.get() - 1;
        return slot(index).map_or(0, |slot| key(index, slot.generation()));
    }
    let parent = index.checked_sub(1).map_or(0, |up| materialize(stack, up));
    let Some((handle, key)) = register(site.id(), true, parent, Detail::Unknown.encode()) else {
        return 0;
    };
    frame.state.set(state | u64::from(handle.get()));
    key
}

/// The sites of the coroutines being polled on this thread, outermost first: the yield each
/// one polls, or its fn's own site before its first yield.
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

/// Puts the stack's depth back when a body's poll unwinds, and frees the slot a child gave the
/// body during that poll (the body keeps only the slot it had before). Forgotten when the poll
/// returns.
struct Unwind<'a> {
    stack: &'a Stack,
    depth: usize,
    before: Option<Handle>,
}

impl Drop for Unwind<'_> {
    fn drop(&mut self) {
        self.stack.depth.set(self.depth);
        if let Some(frame) = self.stack.frames.get(self.depth) {
            let handle = handle_of(frame.state.get());
            if let Some(handle) = handle.filter(|_| handle != self.before) {
                unregister(handle);
            }
        }
    }
}

/// Names a [`Site`] by a type, so that what carries it (a yield's future, a coroutine's body)
/// holds no pointer.
///
/// Not public API: the macros' expansions implement it for a unit struct of their own.
pub trait SiteOf {
    /// The site.
    fn site() -> &'static Site;
}

pin_project! {
    /// The future a `yield_!` waits on, with the `introspect` feature: the yielded future, which
    /// tells the coroutine's [`Body`] at which site it waits.
    ///
    /// Not public API.
    pub struct Tracked<F, S> {
        #[pin]
        inner: F,
        site: PhantomData<S>,
    }
}

/// The future a `yield_!(value)` waits on, which records the site `S` names while it waits.
///
/// Not public API: what the macro's expansion calls with the `introspect` feature.
#[inline]
pub fn yielded_at<K, Y: crate::Yieldable<K>, S: SiteOf>(
    value: Y,
    _site: S,
) -> Tracked<Y::Future, S> {
    Tracked {
        inner: value.into_yielded(),
        site: PhantomData,
    }
}

impl<F: Future, S: SiteOf> Future for Tracked<F, S> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // The innermost body is this yield's: the bodies polled inside it are gone by the time
        // it returns. The inner future is polled outside the thread-local's closure, where the
        // compiler inlines it as it would without the feature.
        STACK.with(|stack| {
            if let Some(frame) = stack.top() {
                frame.site.set(Some(S::site()));
            }
        });
        let result = self.project().inner.poll(cx);
        if result.is_ready() {
            STACK.with(|stack| {
                if let Some(frame) = stack.top() {
                    frame.state.set(frame.state.get() | MOVED);
                    frame.detail.set(0);
                }
            });
        }
        result
    }
}

pin_project! {
    /// A coroutine's body, with the `introspect` feature: holds the slot that shows the
    /// coroutine while it is suspended (or being polled after it first suspended), and frees it
    /// when the body ends or is dropped.
    ///
    /// Not public API: what `#[coroutine]` wraps each body in, through `__coroutine_body!`.
    pub struct Body<F, N> {
        #[pin]
        inner: F,
        handle: Option<Handle>,
        name: PhantomData<N>,
    }

    impl<F, N> PinnedDrop for Body<F, N> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(handle) = this.project().handle.take() {
                unregister(handle);
            }
        }
    }
}

impl<F: Future, N: SiteOf> Body<F, N> {
    /// The body `inner` of the coroutine fn whose site `N` names.
    #[inline]
    pub fn new(inner: F, _name: N) -> Self {
        Body {
            inner,
            handle: None,
            name: PhantomData,
        }
    }
}

/// The name of a body's type without the [`Body`] around it: `a::f::{{closure}}` for
/// `…::Body<a::f::{{closure}}, a::f::__CoroutineFn>`.
pub(crate) fn body_name(type_name: &'static str) -> &'static str {
    let Some(start) = type_name.find("Body<") else {
        return type_name;
    };
    let inner = &type_name[start + "Body<".len()..];
    inner.rfind(", ").map_or(type_name, |end| &inner[..end])
}

impl<F: Future, N: SiteOf> Future for Body<F, N> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let before = *this.handle;
        if let Some(handle) = before {
            set_running(handle);
        }
        STACK.with(|stack| {
            let depth = stack.depth.get();
            stack.depth.set(depth + 1);
            let unwind = Unwind {
                stack,
                depth,
                before,
            };
            let Some(frame) = stack.frames.get(depth) else {
                // Deeper than the stack: not shown.
                let result = this.inner.poll(cx);
                std::mem::forget(unwind);
                stack.depth.set(depth);
                return result;
            };
            frame.site.set(Some(N::site()));
            frame
                .state
                .set(before.map_or(0, |handle| u64::from(handle.get())));
            frame.detail.set(0);
            let result = this.inner.poll(cx);
            std::mem::forget(unwind);
            stack.depth.set(depth);
            let state = frame.state.get();
            if result.is_pending() || handle_of(state).is_some() {
                *this.handle = settle(stack, depth, N::site(), before, state, result.is_ready());
            }
            result
        })
    }
}

/// After a poll of the body at `depth` that suspended, or that had or was given a slot: frees
/// the slot if the body has finished, records the suspension otherwise; returns the body's slot.
#[cold]
#[inline(never)]
fn settle(
    stack: &Stack,
    depth: usize,
    body: &'static Site,
    before: Option<Handle>,
    state: u64,
    finished: bool,
) -> Option<Handle> {
    let handle = handle_of(state);
    if finished {
        if let Some(handle) = handle {
            unregister(handle);
        }
        return None;
    }
    suspended(stack, depth, body, before, handle, state & MOVED != 0)
}

/// Marks `handle`'s slot as being polled.
#[inline]
fn set_running(handle: Handle) {
    if let Some(slot) = slot(handle.get() - 1) {
        let site = slot.site.load(Ordering::Relaxed);
        slot.site.store(site | RUNNING, Ordering::Relaxed);
    }
}

/// Records that the body at `depth` has suspended: `before` is the slot it had when its poll
/// began, `handle` the one it has now (a child may have given it one); returns its slot.
fn suspended(
    stack: &Stack,
    depth: usize,
    body: &'static Site,
    before: Option<Handle>,
    handle: Option<Handle>,
    moved: bool,
) -> Option<Handle> {
    let frame = stack.frames.get(depth);
    let site = frame.and_then(|f| f.site.get()).unwrap_or(body);
    // Encoded as the frame holds it, and stored as it is.
    let detail = frame.map_or(0, |f| f.detail.get());
    let parent = depth.checked_sub(1).map_or(0, |up| materialize(stack, up));
    let id = site.id();
    let Some(handle) = handle else {
        return register(id, false, parent, detail).map(|(handle, _)| handle);
    };
    let index = handle.get() - 1;
    if let Some(slot) = slot(index) {
        let word = slot.site.load(Ordering::Relaxed);
        // The common case: suspended again under the same parent. The slot stays this
        // coroutine's, so its fields are stored one by one, without the sequence lock: a
        // snapshot reading meanwhile sees some of them from its last suspension, which is as
        // true as the rest.
        if before == Some(handle)
            && word & PROVISIONAL == 0
            && slot.parent.load(Ordering::Relaxed) == packed(parent)
        {
            if moved || word & SITE_ID != id {
                slot.since.store(ticks(), Ordering::Relaxed);
            }
            slot.store_detail(detail);
            slot.site.store(id, Ordering::Release);
            return Some(handle);
        }
        // A new suspension: the first (the slot was given during this very poll), one after a
        // yield finished, or at another site.
        let fresh = before.is_none() || moved || word & SITE_ID != id;
        let old = slot.parent.load(Ordering::Relaxed);
        let provisional = word & PROVISIONAL != 0;
        let parent = if before.is_none() {
            // Still the first suspension: the parent stays provisional.
            packed(parent)
        } else if !is_packed(old, parent)
            && old != 0
            && parent != 0
            && !provisional
            && alive_packed(old)
        {
            // Awaited through a shared handle by a second coroutine: shown under the first,
            // with a reference from this one.
            add_reference(parent, key(index, slot.generation()));
            old
        } else {
            packed(parent)
        };
        let flags = if before.is_none() { PROVISIONAL } else { 0 };
        slot.write(false, |slot| {
            if fresh {
                slot.since.store(ticks(), Ordering::Relaxed);
            }
            slot.parent.store(parent, Ordering::Relaxed);
            slot.store_detail(detail);
            slot.site.store(id | flags, Ordering::Relaxed);
        });
    }
    Some(handle)
}

/// How long ago `since` (nanoseconds after [`base`]) was.
pub(crate) fn age(since: u64, now: u64) -> Duration {
    Duration::from_nanos(now.saturating_sub(since))
}
