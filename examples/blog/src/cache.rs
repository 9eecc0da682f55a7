//! The category list that [`get_categories`](crate::handlers::get_categories) keeps between
//! requests: the seed's module-level `categories = None`.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::db::Category;

/// The cached category list, shared by every request.
///
/// The lock is only held for a read or a write of the fields, never across a yield (its guard is
/// not `Send`, so a handler holding it across a yield would not compile as an axum handler).
#[derive(Debug, Default)]
pub(crate) struct CategoryCache {
    /// The list and its generation.
    state: Mutex<Cached>,
}

/// What [`CategoryCache`] holds.
#[derive(Debug, Default)]
struct Cached {
    /// Incremented by each invalidation, so a list fetched before it is not stored after it.
    generation: u64,
    /// The categories, by name; `None` until fetched and after an invalidation.
    list: Option<Arc<[Category]>>,
}

impl CategoryCache {
    /// The cached list, or the generation to pass to [`fill`](Self::fill) after fetching it.
    pub(crate) fn get(&self) -> Result<Arc<[Category]>, u64> {
        let state = self.lock();
        state.list.clone().ok_or(state.generation)
    }

    /// Stores `list`, fetched when the cache was at `generation`, unless the cache was
    /// invalidated since: then the list may predate the change and is not kept.
    pub(crate) fn fill(&self, generation: u64, list: Arc<[Category]>) {
        let mut state = self.lock();
        if state.generation == generation {
            state.list = Some(list);
        }
    }

    /// Drops the list: the next [`get`](Self::get) misses, and lists being fetched now are not
    /// kept.
    pub(crate) fn invalidate(&self) {
        let mut state = self.lock();
        state.generation += 1;
        state.list = None;
    }

    /// Locks the state, also after a panic elsewhere poisoned the mutex: every write leaves it
    /// consistent.
    fn lock(&self) -> MutexGuard<'_, Cached> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(names: &[&str]) -> Arc<[Category]> {
        names
            .iter()
            .map(|name| Category {
                name: (*name).to_owned(),
            })
            .collect()
    }

    #[test]
    fn a_filled_cache_hands_out_its_list() {
        let cache = CategoryCache::default();
        let generation = cache.get().unwrap_err();
        cache.fill(generation, list(&["a"]));
        assert_eq!(&*cache.get().unwrap(), &*list(&["a"]));
    }

    #[test]
    fn invalidation_empties_the_cache() {
        let cache = CategoryCache::default();
        cache.fill(0, list(&["a"]));
        cache.invalidate();
        assert_eq!(cache.get().unwrap_err(), 1);
    }

    #[test]
    fn a_list_fetched_before_an_invalidation_is_not_kept() {
        let cache = CategoryCache::default();
        let generation = cache.get().unwrap_err();
        cache.invalidate(); // a post with a new category arrives during the fetch
        cache.fill(generation, list(&["stale"]));
        assert!(cache.get().is_err());
    }
}
