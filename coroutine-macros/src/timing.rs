//! Where the macro's time goes (issue 12, W7): the time to expand one fn of each of W7's shapes
//! (`coroutine-runtime/benches/compile_time.sh`), to parse it alone, and to set up the macro's
//! stack, in the build profile of the test. Run by hand:
//!
//! ```text
//! cargo test -p coroutine-macros expansion_time_per_fn -- --ignored --nocapture
//! ```
//!
//! proc-macro2 runs on its fallback here, not on rustc's token streams, so the figures are a
//! guide to the share of each step, not the time inside rustc.

use proc_macro2::TokenStream;

use crate::{expand, on_big_stack};

#[test]
#[ignore = "a measurement, not a check: run it by hand"]
fn expansion_time_per_fn() {
    let minimal: TokenStream = "pub fn f7(x: u64) -> u64 {
    let a = yield_!(std::future::ready(x + 7));
    let a = yield_!(f3(a));
    let b = yield_!(async move { a * 3 });
    a ^ b
}"
    .parse()
    .unwrap();
    let handler: TokenStream = "pub fn f7(db: &Db, id: u64) -> Result<String, String> {
    let post = yield_!(db.find(id + 7))?;
    if post.id % 7 == 3 {
        return Err(format!(\"post {} is hidden\", post.id));
    }
    let prev = yield_!(db.find(post.id.saturating_sub(1)))?;
    let next = yield_!(db.find(post.id + 1))?;
    let parent = yield_!(f3(db, prev.id))?;
    let mut title = post.title;
    for word in [prev.title, next.title, parent] {
        if !word.is_empty() {
            title.push_str(\" | \");
            title.push_str(&word);
        }
    }
    Ok(title)
}"
    .parse()
    .unwrap();
    for (name, item) in [("minimal", minimal), ("handler", handler)] {
        let start = std::time::Instant::now();
        let mut size = 0;
        for _ in 0..500 {
            size = on_big_stack(|| expand::coroutine(TokenStream::new(), item.clone()))
                .to_string()
                .len();
        }
        let parse = std::time::Instant::now();
        for _ in 0..500 {
            let _ = syn::parse2::<syn::Item>(item.clone()).unwrap();
        }
        let stack = std::time::Instant::now();
        for _ in 0..500 {
            on_big_stack(|| ());
        }
        println!(
            "{name}: expand {:?} per fn (parse alone {:?}, stack {:?}), output {size} chars, input {}",
            start.elapsed() / 500,
            parse.elapsed() / 500,
            stack.elapsed() / 500,
            item.to_string().len()
        );
    }
}
