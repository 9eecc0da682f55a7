//! Where is it stuck? A live tree of the suspended coroutines, at their yield lines.
//!
//! With the `introspect` feature, every coroutine records, while it is suspended, the file, line
//! and column of the `yield_!` it waits at, since when, and which coroutine waits on it: no
//! annotation beyond `#[coroutine]` and `yield_!`. [`snapshot`] reads it all, from any thread,
//! at any moment, without polling anything:
//!
//! ```
//! use coroutine_runtime::*;
//! use std::time::Duration;
//!
//! #[coroutine_runtime::coroutine]
//! fn query() -> u32 {
//!     yield_!(sleep(Duration::from_secs(60))); // stands for a stuck database call
//!     7
//! }
//!
//! #[coroutine_runtime::coroutine]
//! fn handler() -> u32 {
//!     yield_!(query()) + 1
//! }
//!
//! use futures::FutureExt;
//!
//! let mut running = handler(); // started: suspended under `handler`, `query` under it
//! let tree = introspect::snapshot();
//! let root = tree.roots().iter().find(|n| n.name().ends_with("::handler")).unwrap();
//! assert_eq!(root.children()[0].name(), root.name().replace("handler", "query"));
//! println!("{tree}");
//! // rust_out::handler  src/lib.rs:16:5  suspended 1.2ms
//! //   rust_out::query  src/lib.rs:10:5  suspended 1.2ms, sleep (60.00s left)
//! // As an executor would: the first poll is a trip through the executor, the second resumes.
//! assert!((&mut running).now_or_never().is_none());
//! assert!((&mut running).now_or_never().is_none());
//! assert_eq!(introspect::snapshot().to_string().lines().count(), tree.to_string().lines().count());
//! drop(running); // cancelled: gone from the next snapshot
//! assert!(introspect::snapshot().find(|n| n.name().ends_with("::handler")).is_none());
//! ```
//!
//! # What is shown
//!
//! A coroutine appears while it is suspended at a yield, or being polled after it has suspended
//! once; one that finishes without suspending never does. A dropped coroutine disappears at
//! once. Its children are the coroutines it waits on: a yielded sub-coroutine, the elements of a
//! yielded `Vec`, map or tuple, of [`multi`], [`try_multi`], a [`WaitIterator`] (across its
//! yields) or a [`with_timeout`]. Precisely, a coroutine's parent is the coroutine whose body was
//! being polled when it last suspended: for a coroutine just called (started, suspended, not
//! polled yet), its caller; from then on, the coroutine that polls it. A coroutine spawned on an
//! executor is a root.
//!
//! A coroutine awaited by several others through a shared handle (`futures::future::Shared`)
//! appears once, under the first that polled it, and each other one shows a
//! [reference](Node::is_reference) to it, so a snapshot stays linear in the number of
//! coroutines:
//!
//! ```text
//! app::both  src/app.rs:30:22  suspended 3.1ms, 2 of 2 pending
//!   app::first  src/app.rs:18:9  suspended 3.1ms
//!     ↪ app::fetch  src/app.rs:12:9  (shown under app::second)
//!   app::second  src/app.rs:24:9  suspended 3.1ms
//!     app::fetch  src/app.rs:12:9  suspended 3.2ms
//! ```
//!
//! Where the runtime knows what a leaf waits on, the node says so ([`Node::waits_on`]): a
//! [`sleep`] and its time left, a [`with_timeout`]'s deadline, a [`ThreadPoolExecutor`] job, a
//! [`Task`] callback, "k of n pending" for a collection.
//!
//! # Cost
//!
//! With the feature off, nothing of this is compiled. With it on, each poll of a coroutine's body
//! pushes and pops a frame on a thread-local stack, and each yield writes its site in that frame.
//! A coroutine that suspends takes a 28-byte slot in a shared table (no lock in the common case)
//! for as long as it lives, and stamps it with a coarse clock: a tick of about a millisecond,
//! advanced by a thread (`coroutine-introspect-clock`) that starts at the first suspension and
//! wakes every millisecond. Ages are therefore over by up to about 2 ms. See BENCHMARKS.md.
//!
//! Coroutines nested more than 128 deep on one thread's stack of polls are not shown. A
//! coroutine that panics leaves nothing behind once it is dropped.
//!
//! [`multi`]: crate::multi
//! [`try_multi`]: crate::try_multi
//! [`WaitIterator`]: crate::WaitIterator
//! [`with_timeout`]: crate::with_timeout
//! [`sleep`]: crate::sleep
//! [`ThreadPoolExecutor`]: crate::ThreadPoolExecutor
//! [`Task`]: crate::Task

mod registry;
mod stuck;

use std::fmt::{self, Write as _};
use std::time::Duration;

pub(crate) use registry::body_name;
pub use registry::{Body, Site, SiteOf, Tracked, yielded_at};
use registry::{Detail, Entry};
pub(crate) use registry::{Detail as WaitsOn, waits_on};

/// Every live coroutine that is suspended or running, on every thread and executor, as a
/// forest: the coroutines nobody is waiting on are the roots.
///
/// It reads a table that suspended yields write; it never polls a future, never waits for a
/// coroutine that is being polled (it shows it as running), takes short locks only, and costs
/// time linear in the number of coroutines.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::*;
///
/// static LINE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
///
/// #[coroutine_runtime::coroutine]
/// fn waits() {
///     LINE.store(line!() + 1, std::sync::atomic::Ordering::Relaxed);
///     yield_!(std::future::pending::<()>());
/// }
///
/// let waiting = waits();
/// let tree = introspect::snapshot();
/// let node = tree.find(|n| n.name().ends_with("::waits")).expect("suspended");
/// let (file, line, column) = node.location(); // of its `yield_!`
/// assert_eq!((file, line, column), (file!(), LINE.load(std::sync::atomic::Ordering::Relaxed), 5));
/// assert!(!node.is_running());
/// # drop(waiting);
/// ```
#[must_use]
pub fn snapshot() -> Snapshot {
    let now = registry::now();
    let entries = registry::read_all(now);
    let sites = registry::sites();
    Snapshot {
        roots: build(&entries, &sites, now),
    }
}

/// Turns the slots into a forest; linear in their number.
fn build(entries: &[Entry], sites: &[&'static Site], now: u64) -> Vec<Node> {
    // Slot index → position in `entries`, to follow parent keys.
    let slots = entries
        .iter()
        .filter_map(|e| registry::key_index(e.key))
        .max()
        .map_or(0, |m| m + 1);
    let mut at = vec![usize::MAX; slots];
    for (i, entry) in entries.iter().enumerate() {
        if let Some(index) = registry::key_index(entry.key) {
            at[index] = i;
        }
    }
    let parent_of = |entry: &Entry| {
        let index = registry::packed_index(entry.parent)?;
        let &position = at.get(index)?;
        (position != usize::MAX && registry::is_packed(entry.parent, entries[position].key))
            .then_some(position)
    };
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); entries.len()];
    let mut primary = vec![None; entries.len()];
    let mut roots = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        match parent_of(entry) {
            Some(parent) if parent != i => {
                children[parent].push(i);
                primary[i] = Some(parent);
            }
            _ => roots.push(i),
        }
    }
    // A coroutine awaited through a shared handle by several: shown under one of them, with a
    // reference from each other one.
    let position = |key: u64| {
        let &position = at.get(registry::key_index(key)?)?;
        (position != usize::MAX && entries[position].key == key).then_some(position)
    };
    let mut references: Vec<Vec<usize>> = vec![Vec::new(); entries.len()];
    for (parent, child) in registry::references() {
        if let (Some(parent), Some(child)) = (position(parent), position(child)) {
            if primary[child] != Some(parent) && parent != child {
                references[parent].push(child);
            }
        }
    }
    // Oldest first; the clock is coarse, so within a tick by place in the code, which keeps
    // siblings started together in the order of their lines.
    let order = |list: &mut Vec<usize>| {
        list.sort_by_key(|&i| {
            let entry = &entries[i];
            let location = site_of(sites, entry).map(Site::location);
            (entry.since, location, entry.key)
        });
    };
    order(&mut roots);
    for list in children.iter_mut().chain(&mut references) {
        order(list);
    }
    let tree = Tree {
        entries,
        sites,
        now,
        children: &children,
        references: &references,
        primary: &primary,
    };
    let mut seen = vec![false; entries.len()];
    let mut forest: Vec<Node> = Vec::with_capacity(roots.len());
    for &root in &roots {
        forest.extend(tree.node(root, &mut seen));
    }
    // Parent links that went stale mid-read can make a cycle nobody reaches: show it anyway.
    for i in 0..entries.len() {
        if !seen[i] {
            forest.extend(tree.node(i, &mut seen));
        }
    }
    forest
}

/// The site of `entry`, from the table of every site (ids count from 1).
fn site_of(sites: &[&'static Site], entry: &Entry) -> Option<&'static Site> {
    let index = usize::try_from(entry.site).ok()?.checked_sub(1)?;
    sites.get(index).copied()
}

/// The slots read, with their links resolved to positions.
struct Tree<'a> {
    entries: &'a [Entry],
    sites: &'a [&'static Site],
    now: u64,
    children: &'a [Vec<usize>],
    references: &'a [Vec<usize>],
    primary: &'a [Option<usize>],
}

impl Tree<'_> {
    /// The node of `entries[i]` and its descendants, unless it has been made already.
    fn node(&self, i: usize, seen: &mut Vec<bool>) -> Option<Node> {
        if std::mem::replace(&mut seen[i], true) {
            return None;
        }
        let mut node = self.shallow(i)?;
        node.children = self.children[i]
            .iter()
            .filter_map(|&c| self.node(c, seen))
            .collect();
        node.children
            .extend(self.references[i].iter().filter_map(|&c| {
                let shown = match self.primary[c].and_then(|p| Some((p, self.name(p)?))) {
                    Some((p, name)) => Shown::Under(self.entries[p].key, name),
                    None => Shown::AsRoot,
                };
                Some(Node {
                    shown,
                    ..self.shallow(c)?
                })
            }));
        Some(node)
    }

    /// The site of `entries[i]`.
    fn site(&self, i: usize) -> Option<&'static Site> {
        site_of(self.sites, &self.entries[i])
    }

    fn name(&self, i: usize) -> Option<&'static str> {
        Some(self.site(i)?.name())
    }

    /// The node of `entries[i]`, without children.
    fn shallow(&self, i: usize) -> Option<Node> {
        let entry = &self.entries[i];
        let site = self.site(i)?;
        Some(Node {
            id: entry.key,
            name: site.name(),
            location: site.location(),
            age: registry::age(entry.since, self.now),
            running: entry.running,
            waits_on: describe(entry.detail, self.now),
            children: Vec::new(),
            shown: Shown::Here,
        })
    }
}

/// The deadline `after` from now, for [`WaitsOn::Sleep`] and [`WaitsOn::Timeout`].
pub(crate) fn deadline(after: Duration) -> u64 {
    registry::now().saturating_add(u64::try_from(after.as_nanos()).unwrap_or(u64::MAX))
}

/// Records that the innermost yield being polled waits on a collection with `pending` of
/// `total` elements still running.
pub(crate) fn waits_on_collection(pending: usize, total: usize) {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    waits_on(WaitsOn::Collection {
        pending: count(pending),
        total: count(total),
    });
}

/// What a leaf waits on, in words.
fn describe(detail: Detail, now: u64) -> Option<String> {
    Some(match detail {
        Detail::Unknown => return None,
        Detail::Sleep(at) => format!("sleep ({} left)", Age(registry::age(now, at))),
        Detail::Timeout(at) => format!("with_timeout ({} left)", Age(registry::age(now, at))),
        Detail::PoolJob => "a thread-pool job".to_owned(),
        Detail::Callback => "a Task callback".to_owned(),
        Detail::Collection { pending, total } => format!("{pending} of {total} pending"),
    })
}

/// The coroutines being polled on this thread right now, outermost first: for a panic hook.
///
/// Each [`Node`] is a coroutine at the yield it is polling (the future it waits on is the one
/// running, or panicking); they have no children and no age.
///
/// # Examples
///
/// ```
/// use coroutine_runtime::*;
/// use std::future::poll_fn;
/// use std::task::Poll;
///
/// #[coroutine_runtime::coroutine]
/// fn outer() -> Vec<String> {
///     yield_!(inner())
/// }
///
/// #[coroutine_runtime::coroutine]
/// fn inner() -> Vec<String> {
///     // What a panic hook would see: the chain of yields being polled.
///     yield_!(poll_fn(|_| Poll::Ready(
///         introspect::current().iter().map(|n| n.name().to_owned()).collect::<Vec<_>>(),
///     )))
/// }
///
/// let chain = futures::executor::block_on(outer());
/// assert!(chain.last().unwrap().ends_with("::inner"));
/// assert!(introspect::current().is_empty()); // nothing is being polled here
/// ```
#[must_use]
pub fn current() -> Vec<Node> {
    registry::current()
        .into_iter()
        .map(|site| Node {
            id: 0,
            name: site.name(),
            location: site.location(),
            age: Duration::ZERO,
            running: true,
            waits_on: None,
            children: Vec::new(),
            shown: Shown::Here,
        })
        .collect()
}

/// A picture of the live coroutines, taken by [`snapshot`].
///
/// `Display` prints it as an indented tree, one line per coroutine; [`Snapshot::to_json`] gives
/// it to programs.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    roots: Vec<Node>,
}

impl Snapshot {
    /// The coroutines nobody was waiting on: spawned tasks, coroutines driven by `block_on`, or
    /// kept by plain futures.
    ///
    /// # Examples
    ///
    /// ```
    /// let tree = coroutine_runtime::introspect::snapshot();
    /// for root in tree.roots() {
    ///     println!("{} has {} children", root.name(), root.children().len());
    /// }
    /// ```
    #[must_use]
    pub fn roots(&self) -> &[Node] {
        &self.roots
    }

    /// Every coroutine in the tree, parents before their children, each once: without the
    /// [references](Node::is_reference) to coroutines shown elsewhere.
    ///
    /// # Examples
    ///
    /// ```
    /// let tree = coroutine_runtime::introspect::snapshot();
    /// assert!(tree.iter().count() >= tree.roots().len());
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = &Node> {
        let mut stack: Vec<&Node> = self.roots.iter().rev().collect();
        std::iter::from_fn(move || {
            loop {
                let node = stack.pop()?;
                if node.is_reference() {
                    continue;
                }
                stack.extend(node.children.iter().rev());
                return Some(node);
            }
        })
    }

    /// The first coroutine (parents first) for which `predicate` holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let tree = coroutine_runtime::introspect::snapshot();
    /// assert!(tree.find(|node| node.name() == "no::such::coroutine").is_none());
    /// ```
    #[must_use]
    pub fn find(&self, predicate: impl FnMut(&&Node) -> bool) -> Option<&Node> {
        self.iter().find(predicate)
    }

    /// The coroutines suspended for longer than `age` (not those being polled), parents first.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let tree = coroutine_runtime::introspect::snapshot();
    /// for stuck in tree.older_than(Duration::from_secs(5)) {
    ///     eprintln!("stuck: {} at {:?}", stuck.name(), stuck.location());
    /// }
    /// ```
    #[must_use]
    pub fn older_than(&self, age: Duration) -> Vec<&Node> {
        self.iter()
            .filter(|node| !node.running && node.age > age)
            .collect()
    }

    /// The tree without the coroutines suspended for `age` or less, unless one of their
    /// descendants is older: what `?older_than=5s` of a debug endpoint shows.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let old = coroutine_runtime::introspect::snapshot().pruned(Duration::from_secs(5));
    /// assert!(old.iter().all(|node| node.age() > Duration::from_secs(5)
    ///     || node.children().len() > 0));
    /// ```
    #[must_use]
    pub fn pruned(&self, age: Duration) -> Snapshot {
        fn keep(node: &Node, age: Duration) -> Option<Node> {
            let children: Vec<Node> = node.children.iter().filter_map(|c| keep(c, age)).collect();
            (node.age > age && !node.running || !children.is_empty()).then(|| Node {
                children,
                ..node.shallow()
            })
        }
        Snapshot {
            roots: self.roots.iter().filter_map(|r| keep(r, age)).collect(),
        }
    }

    /// The tree as JSON, without any dependency:
    /// `{"roots":[{"id":…,"name":…,"file":…,"line":…,"column":…,"age_us":…,"running":…,
    /// "waits_on":…,"children":[…]}]}`, `waits_on` being a string or `null`. A
    /// [reference](Node::is_reference) is `{"ref":…,"shown_under":…,"name":…,"file":…,
    /// "line":…,"column":…}`: `ref` the id of the coroutine, `shown_under` the id of the node
    /// whose children hold it in full, or `null` if it is a root.
    ///
    /// # Examples
    ///
    /// ```
    /// let json = coroutine_runtime::introspect::snapshot().to_json();
    /// assert!(json.starts_with(r#"{"roots":["#));
    /// ```
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut out = String::from(r#"{"roots":["#);
        for (i, root) in self.roots.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            root.json(&mut out);
        }
        out.push_str("]}");
        out
    }
}

impl fmt::Display for Snapshot {
    /// One line per coroutine, children indented under their parent:
    /// `name  file:line:col  suspended 1.2s[, what it waits on]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.roots.is_empty() {
            return writeln!(f, "(no suspended coroutines)");
        }
        for root in &self.roots {
            root.write_tree(f, 0)?;
        }
        Ok(())
    }
}

/// The node and its descendants, as [`Snapshot`] prints them, the node unindented.
impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_tree(f, 0)
    }
}

/// One coroutine in a [`Snapshot`].
#[derive(Clone, Debug)]
pub struct Node {
    id: u64,
    name: &'static str,
    location: (&'static str, u32, u32),
    age: Duration,
    running: bool,
    waits_on: Option<String>,
    children: Vec<Node>,
    /// Where the coroutine is shown in full.
    shown: Shown,
}

/// Where a [`Node`]'s coroutine is shown in full.
#[derive(Clone, Copy, Debug)]
enum Shown {
    /// Here: the node is not a reference.
    Here,
    /// Under the parent of this id and name: the node is a reference.
    Under(u64, &'static str),
    /// As a root: the node is a reference.
    AsRoot,
}

impl Node {
    /// The coroutine's id: the same in every snapshot while it lives (not reused soon after it
    /// ends), and the same in a [reference](Node::is_reference) as in the node it points at.
    ///
    /// # Examples
    ///
    /// ```
    /// let tree = coroutine_runtime::introspect::snapshot();
    /// for node in tree.iter() {
    ///     assert_ne!(node.id(), 0);
    /// }
    /// ```
    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Whether this node only points at a coroutine shown in full elsewhere in the snapshot:
    /// a coroutine awaited by several others (through a shared handle such as
    /// `futures::future::Shared`) appears once, under the first one that waited on it, and each
    /// other one has a reference to it among its [`children`](Node::children), with the same
    /// [`id`](Node::id), name, location and age, and no children. That keeps a snapshot linear
    /// in the number of coroutines. [`Snapshot::iter`] leaves references out.
    ///
    /// # Examples
    ///
    /// ```
    /// use coroutine_runtime::*;
    /// use futures::FutureExt;
    ///
    /// #[coroutine_runtime::coroutine]
    /// fn shared_fetch() -> u32 {
    ///     yield_!(futures::future::pending::<u32>())
    /// }
    ///
    /// #[coroutine_runtime::coroutine]
    /// fn shared_user(fetch: impl Future<Output = u32>) -> u32 {
    ///     yield_!(fetch)
    /// }
    ///
    /// let fetch = shared_fetch().shared();
    /// let mut users = [shared_user(fetch.clone()), shared_user(fetch)];
    /// for _ in 0..2 {
    ///     // As an executor would.
    ///     for user in &mut users {
    ///         assert!(user.now_or_never().is_none());
    ///     }
    /// }
    /// let tree = introspect::snapshot();
    /// let shown: Vec<_> = tree.iter().filter(|n| n.name().ends_with("::shared_fetch")).collect();
    /// assert_eq!(shown.len(), 1);
    /// let children = tree
    ///     .roots()
    ///     .iter()
    ///     .filter(|n| n.name().ends_with("::shared_user"))
    ///     .flat_map(|user| user.children());
    /// let references: Vec<_> = children.filter(|c| c.is_reference()).collect();
    /// assert_eq!(references.len(), 1);
    /// assert_eq!(references[0].id(), shown[0].id());
    /// assert!(references[0].shown_under().is_some());
    /// ```
    #[must_use]
    pub fn is_reference(&self) -> bool {
        !matches!(self.shown, Shown::Here)
    }

    /// For a [reference](Node::is_reference), the id of the node under which the coroutine is
    /// shown in full; `None` if it is shown as a root, or for a node that is not a reference.
    ///
    /// # Examples
    ///
    /// ```
    /// let tree = coroutine_runtime::introspect::snapshot();
    /// assert!(tree.iter().all(|node| node.shown_under().is_none()));
    /// ```
    #[must_use]
    pub fn shown_under(&self) -> Option<u64> {
        match self.shown {
            Shown::Under(id, _) => Some(id),
            Shown::Here | Shown::AsRoot => None,
        }
    }

    /// The coroutine fn's path, `crate::module::fn` (a method: `crate::module::Type::method`).
    #[must_use]
    pub fn name(&self) -> &str {
        self.name
    }

    /// File, line and column of the `yield_!` (or `yield`) it is suspended at; for a coroutine
    /// being polled, of the yield it is polling.
    #[must_use]
    pub fn location(&self) -> (&'static str, u32, u32) {
        self.location
    }

    /// How long it has been suspended at that yield.
    #[must_use]
    pub fn age(&self) -> Duration {
        self.age
    }

    /// Whether it was being polled when the snapshot was taken.
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// The coroutines it is waiting on, oldest first; one shown in full under another parent is
    /// a [reference](Node::is_reference) here, after the others.
    #[must_use]
    pub fn children(&self) -> &[Node] {
        &self.children
    }

    /// What it waits on, where the runtime knows: `"sleep (1.5s left)"`, `"a thread-pool job"`,
    /// `"a Task callback"`, `"3 of 10 pending"`, `"with_timeout (2s left)"`.
    #[must_use]
    pub fn waits_on(&self) -> Option<&str> {
        self.waits_on.as_deref()
    }

    /// The node without its children.
    fn shallow(&self) -> Node {
        Node {
            waits_on: self.waits_on.clone(),
            children: Vec::new(),
            ..*self
        }
    }

    fn write_tree(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        let (file, line, column) = self.location;
        if self.is_reference() {
            write!(
                f,
                "{:width$}↪ {}  {file}:{line}:{column}  ",
                "",
                self.name,
                width = depth * 2
            )?;
            return match self.shown {
                Shown::Under(_, parent) => writeln!(f, "(shown under {parent})"),
                Shown::Here | Shown::AsRoot => writeln!(f, "(shown as a root)"),
            };
        }
        write!(
            f,
            "{:width$}{}  {file}:{line}:{column}  ",
            "",
            self.name,
            width = depth * 2
        )?;
        if self.running {
            write!(f, "running")?;
        } else {
            write!(f, "suspended {}", Age(self.age))?;
        }
        if let Some(what) = &self.waits_on {
            write!(f, ", {what}")?;
        }
        writeln!(f)?;
        for child in &self.children {
            child.write_tree(f, depth + 1)?;
        }
        Ok(())
    }

    fn json(&self, out: &mut String) {
        let (file, line, column) = self.location;
        if self.is_reference() {
            let _ = write!(out, r#"{{"ref":{},"shown_under":"#, self.id);
            match self.shown_under() {
                Some(id) => {
                    let _ = write!(out, "{id}");
                }
                None => out.push_str("null"),
            }
            out.push_str(r#","name":"#);
            json_string(out, self.name);
            out.push_str(r#","file":"#);
            json_string(out, file);
            let _ = write!(out, r#","line":{line},"column":{column}}}"#);
            return;
        }
        let _ = write!(out, r#"{{"id":{},"name":"#, self.id);
        json_string(out, self.name);
        out.push_str(r#","file":"#);
        json_string(out, file);
        let _ = write!(
            out,
            r#","line":{line},"column":{column},"age_us":{},"running":{},"waits_on":"#,
            self.age.as_micros(),
            self.running
        );
        match &self.waits_on {
            Some(what) => json_string(out, what),
            None => out.push_str("null"),
        }
        out.push_str(r#","children":["#);
        for (i, child) in self.children.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            child.json(out);
        }
        out.push_str("]}");
    }
}

/// Appends `s` as a JSON string.
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A duration as people read it: `850ns`, `12µs`, `3.4ms`, `1.25s`, `2m05s`.
struct Age(Duration);

impl fmt::Display for Age {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d < Duration::from_micros(1) {
            write!(f, "{}ns", d.as_nanos())
        } else if d < Duration::from_millis(1) {
            write!(f, "{}µs", d.as_micros())
        } else if d < Duration::from_secs(1) {
            write!(f, "{:.1}ms", d.as_secs_f64() * 1e3)
        } else if d < Duration::from_secs(60) {
            write!(f, "{:.2}s", d.as_secs_f64())
        } else {
            write!(f, "{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
        }
    }
}
