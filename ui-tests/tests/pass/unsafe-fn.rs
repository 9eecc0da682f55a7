// An `unsafe fn` may be a coroutine (a campaign edge case, issue 14).
use coroutine_runtime::*;

/// # Safety
///
/// `pointer` must be valid to read until the coroutine finishes.
#[coroutine_runtime::coroutine]
unsafe fn read_later(pointer: *const u32) -> u32 {
    yield_!(moment);
    // SAFETY: the caller promises the pointer stays valid.
    unsafe { *pointer }
}

fn main() {
    let value = 7;
    // SAFETY: `value` outlives the coroutine, which is run to its end here.
    let read = unsafe { read_later(&value) };
    assert_eq!(futures::executor::block_on(read), 7);
}
