"""W7 diagnosis (issue 12): what the 500-fn minimal crate of compile_time.sh costs rustc, part by
part. Writes a workspace of crates that each hold N minimal fns (three yields and an xor, as in
coroutine-runtime/benches/compile_time.sh) already expanded, so each variant changes one thing:

  async-fns      the same fns as `async fn`s (the baseline);
  expanded       what `#[coroutine]` expands to: `Runner::start(async move { ... })`, each yield
                 `Yieldable::into_yielded(value).await`;
  helper-fn      the same, each yield through a helper fn generic over the value (before issue 12);
  bare-box       the runner reduced to one `Pin<Box<F>>` polled once at the start: no fairness,
                 no kept panic, no never-awaited report (a floor for any runner that boxes `F`);
  erased-box     the body boxed as `dyn Future` (not `Send`-correct: a floor, not a design).

Usage: python3 bench/w7/variants.py DIR [N]   (N = 100 by default), then
       bash bench/w7/rustc_instructions.sh DIR CRATE...
"""
import os
import sys

RUNNER = "::coroutine_runtime::Runner<impl ::core::future::Future<Output = u64>>"
START = "::coroutine_runtime::__private::Runner::start"

BARE_BOX = """
mod rt {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};
    pub struct R<F: Future>(Pin<Box<F>>);
    fn first_poll<T>(body: Pin<&mut dyn Future<Output = T>>) -> bool {
        body.poll(&mut Context::from_waker(Waker::noop())).is_ready()
    }
    impl<F: Future> R<F> {
        pub fn start(future: F) -> Self {
            let mut body = Box::pin(future);
            first_poll(body.as_mut());
            R(body)
        }
    }
    impl<F: Future> Future for R<F> {
        type Output = F::Output;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            self.0.as_mut().poll(cx)
        }
    }
}
"""

ERASED_BOX = """
mod rt {
    use std::future::Future;
    use std::marker::PhantomData;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};
    pub struct R<F: Future>(Pin<Box<dyn Future<Output = F::Output>>>, PhantomData<fn() -> F>);
    impl<F: Future + 'static> R<F> {
        pub fn start(future: F) -> Self {
            let mut body: Pin<Box<dyn Future<Output = F::Output>>> = Box::pin(future);
            let _ = body.as_mut().poll(&mut Context::from_waker(Waker::noop()));
            R(body, PhantomData)
        }
    }
    impl<F: Future> Future for R<F> {
        type Output = F::Output;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            self.0.as_mut().poll(cx)
        }
    }
}
"""


def coroutines(n, yield_of, start=START, ret=RUNNER, prelude=""):
    """The crate's source: n expanded coroutine fns and `run_all`."""
    out = ["//! W7 diagnosis crate.", "#![allow(missing_docs)]", prelude]
    for i in range(n):
        body = [
            "let x = x;",
            "if false { return ::coroutine_runtime::__private::declared::<u64>(); }",
            f"let a = {yield_of(f'std::future::ready(x + {i})')};",
        ]
        if i > 0:
            body.append(f"let a = {yield_of(f'f{i // 2}(a)')};")
        body += [f"let b = {yield_of('async move { a * 3 }')};", "a ^ b"]
        block = "\n        ".join(body)
        out.append(f"pub fn f{i}(x: u64) -> {ret} {{\n    {start}(async move {{\n        {block}\n    }})\n}}")
    calls = "\n        ".join(
        f"sum = sum.wrapping_add({yield_of(f'f{i}(x)')});" for i in range(n // 2, n)
    )
    out.append(
        f"pub fn run_all(x: u64) -> {ret} {{\n    {start}(async move {{\n        let mut sum = 0u64;\n"
        f"        {calls}\n        sum\n    }})\n}}"
    )
    return "\n".join(out) + "\n"


def async_fns(n):
    out = ["//! W7 diagnosis crate.", "#![allow(missing_docs)]"]
    for i in range(n):
        parent = f"    let a = f{i // 2}(a).await;\n" if i > 0 else ""
        out.append(
            f"pub async fn f{i}(x: u64) -> u64 {{\n    let a = std::future::ready(x + {i}).await;\n"
            f"{parent}    let b = async move {{ a * 3 }}.await;\n    a ^ b\n}}"
        )
    calls = "\n".join(f"    sum = sum.wrapping_add(f{i}(x).await);" for i in range(n // 2, n))
    out.append(f"pub async fn run_all(x: u64) -> u64 {{\n    let mut sum = 0u64;\n{calls}\n    sum\n}}")
    return "\n".join(out) + "\n"


def main():
    root = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    runtime = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "coroutine-runtime")
    trait = lambda e: f"::coroutine_runtime::Yieldable::into_yielded({e}).await"
    helper = lambda e: f"::coroutine_runtime::__private::yielded({e}).await"
    local = dict(start="crate::rt::R::start", ret="crate::rt::R<impl ::core::future::Future<Output = u64>>")
    crates = {
        "async-fns": async_fns(n),
        "expanded": coroutines(n, trait),
        "helper-fn": coroutines(n, helper),
        "bare-box": coroutines(n, trait, prelude=BARE_BOX, **local),
        "erased-box": coroutines(n, trait, prelude=ERASED_BOX, **local),
    }
    for name, source in crates.items():
        os.makedirs(os.path.join(root, name, "src"), exist_ok=True)
        with open(os.path.join(root, name, "src", "lib.rs"), "w") as f:
            f.write(source)
        with open(os.path.join(root, name, "Cargo.toml"), "w") as f:
            f.write(f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2024"\n\n'
                    "[dependencies]\ncoroutine-runtime.workspace = true\n")
    members = ", ".join(f'"{name}"' for name in crates)
    with open(os.path.join(root, "Cargo.toml"), "w") as f:
        f.write(f'[workspace]\nresolver = "3"\nmembers = [{members}]\n\n[workspace.dependencies]\n'
                f'coroutine-runtime = {{ path = "{os.path.normpath(runtime)}" }}\n')


if __name__ == "__main__":
    main()
