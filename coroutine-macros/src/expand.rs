//! Code generation: a coroutine fn becomes a fn that returns a started future.
//!
//! ```text
//! Input:
//!     #[coroutine]
//!     fn get_categories(db: &Db) -> Vec<Category> {
//!         let categories = yield_!(db.categories());
//!         return Return(categories);
//!     }
//!
//! Output:
//!     #[allow(…)]
//!     fn get_categories(db: &Db) -> Runner<impl Future<Output = Vec<Category>>> {
//!         Runner::start(__coroutine_body!(async move {
//!             let db = db;
//!             if false {
//!                 return declared::<Vec<Category>>();
//!             }
//!             let categories = yield_!(@__coroutine_yield db.categories());
//!             return unwrap_return(Return(categories));
//!         }))
//!     }
//! ```
//!
//! The arguments are moved into the `async` block first, then the body's statements follow, as
//! in an `async fn`: everything drops in reverse declaration order (see [`bind_arguments`]).
//!
//! The `if false { return … }` line is never run: it gives the `async` block the declared output
//! type before the body's first `return`, so a wrong return value is reported at the value. It
//! is left out when the declared type mentions `impl Trait`, which cannot be named there, and
//! for `-> !`, which the fn's signature spells `Never` (see [`name_never`]).
//!
//! `__coroutine_body!` is the runtime's: the block itself, or with the runtime's `introspect`
//! feature, the block in a wrapper that shows the coroutine while it is suspended.
//!
//! With `#[coroutine(lazy)]` the `Runner::start(…)` wrapper is left out and the fn returns
//! `impl Future<Output = T>`.
//!
//! The `Runner` type (rather than `impl Future`) makes a dropped coroutine warn once, with
//! `Runner`'s `#[must_use]` message; an `impl Future` would warn with the generic
//! "futures do nothing" message, which is wrong for a started coroutine.
//!
//! # Lints
//!
//! The generated code is lint-clean under `#![deny(warnings, clippy::pedantic)]`
//! (`tests/tests/lints.rs`). Two lints need an `allow`, each as narrow as it can be:
//!
//! * `refining_impl_trait`, on the generated fn: a trait that declares
//!   `-> impl Future<Output = T>` is implemented by a coroutine that returns a `Runner`.
//! * `clippy::used_underscore_binding`, on each `let arg = arg;`: an argument named `_unused` is
//!   used there by the macro, not by the user.
//!
//! Everything else in the body is the user's code and is linted as such.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{
    Attribute, Block, FnArg, ImplItem, ImplItemFn, Item, ItemFn, Pat, Path, ReturnType, Signature,
    Type, Visibility,
};

use crate::args::Args;
use crate::yields::{ReturnRewriter, YieldRewriter, is_coroutine_attribute};
use crate::{fallback, valid};

/// `#[coroutine(args)] item`.
pub(crate) fn coroutine(args: TokenStream, input: TokenStream) -> TokenStream {
    let item: Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => return fallback::with_errors(input, Some(error)),
    };
    let mut errors = Vec::new();
    let args = syn::parse2::<Args>(args).unwrap_or_else(|error| {
        errors.push(error);
        Args::default()
    });
    let tokens = match valid::item(&item) {
        Ok(function) => coroutine_fn(&function.into(), &args, &mut errors),
        Err(error) => {
            errors.push(error);
            fallback::not_a_fn(&item, input)
        }
    };
    fallback::with_errors(tokens, combine(errors))
}

/// `coroutines! { items }`: every fn in the block, and every method of an impl block in it,
/// becomes a coroutine; a `#[coroutine(…)]` on one of them gives its arguments.
pub(crate) fn coroutines(input: TokenStream) -> TokenStream {
    let parser = |stream: syn::parse::ParseStream<'_>| {
        let mut items = Vec::new();
        while !stream.is_empty() {
            items.push(stream.parse::<Item>()?);
        }
        Ok(items)
    };
    let items = match parser.parse2(input) {
        Ok(items) => items,
        Err(error) => return error.to_compile_error(),
    };
    let mut errors = Vec::new();
    let mut out = TokenStream::new();
    for item in items {
        match item {
            Item::Fn(mut function) => {
                let args = take_args(&mut function.attrs, &mut errors);
                out.extend(coroutine_fn(&(&function).into(), &args, &mut errors));
            }
            Item::Impl(mut block) => {
                let mut methods = Vec::new();
                for member in std::mem::take(&mut block.items) {
                    match member {
                        ImplItem::Fn(mut method) => {
                            let args = take_args(&mut method.attrs, &mut errors);
                            let method = coroutine_fn(&(&method).into(), &args, &mut errors);
                            methods.push(ImplItem::Verbatim(method));
                        }
                        other => methods.push(other),
                    }
                }
                block.items = methods;
                out.extend(quote!(#block));
            }
            other => out.extend(quote!(#other)),
        }
    }
    fallback::with_errors(out, combine(errors))
}

/// Removes a `#[coroutine(…)]` attribute from `attrs` and parses its arguments; errors go to
/// `errors`.
fn take_args(attrs: &mut Vec<Attribute>, errors: &mut Vec<syn::Error>) -> Args {
    let Some(position) = attrs.iter().position(is_coroutine_attribute) else {
        return Args::default();
    };
    let attr = attrs.remove(position);
    if matches!(attr.meta, syn::Meta::Path(_)) {
        return Args::default();
    }
    attr.parse_args::<Args>().unwrap_or_else(|error| {
        errors.push(error);
        Args::default()
    })
}

/// The parts of a fn (free or method) that make a coroutine.
struct CoroutineFn<'a> {
    attrs: &'a [Attribute],
    vis: &'a Visibility,
    sig: &'a Signature,
    block: &'a Block,
}

impl<'a> From<&'a ItemFn> for CoroutineFn<'a> {
    fn from(function: &'a ItemFn) -> Self {
        CoroutineFn {
            attrs: &function.attrs,
            vis: &function.vis,
            sig: &function.sig,
            block: &function.block,
        }
    }
}

impl<'a> From<&'a ImplItemFn> for CoroutineFn<'a> {
    fn from(method: &'a ImplItemFn) -> Self {
        CoroutineFn {
            attrs: &method.attrs,
            vis: &method.vis,
            sig: &method.sig,
            block: &method.block,
        }
    }
}

/// The coroutine made of one fn's parts. Problems go to `errors`; the tokens are always a
/// complete fn, so the rest of the crate sees no second error.
fn coroutine_fn(
    function: &CoroutineFn<'_>,
    args: &Args,
    errors: &mut Vec<syn::Error>,
) -> TokenStream {
    let krate = &args.krate;
    let sig = match valid::signature(function.sig) {
        Ok(()) => function.sig.clone(),
        Err(error) => {
            errors.push(error);
            fallback::signature(function.sig)
        }
    };
    let mut body = function.block.clone();
    let mut yields = YieldRewriter::new(krate);
    yields.visit_block_mut(&mut body);
    errors.extend(yields.errors);
    ReturnRewriter { krate }.rewrite_body(&mut body);

    let (mut sig, bindings) = bind_arguments(&sig);
    let declared = declared_output(krate, &sig.output);
    name_never(krate, &mut sig.output);
    // The body's statements go straight into the `async` block, after the arguments, as in an
    // `async fn`; kept as a block, a one-expression body would trip `unused_braces`.
    let body = &body.stmts;
    // `__coroutine_body!` is the block itself without the runtime's `introspect` feature, and the
    // block in a wrapper that shows the coroutine while it is suspended with it.
    let future = quote_spanned! {Span::mixed_site()=>
        #krate::__coroutine_body!(async move {
            #(#bindings)*
            #declared
            #(#body)*
        })
    };
    let body = if args.lazy {
        sig.output = coroutine_output(&sig.output);
        future
    } else {
        sig.output = runner_output(krate, &sig.output);
        quote!(#krate::__private::Runner::start(#future))
    };
    let attrs = function.attrs;
    let vis = function.vis;
    quote! {
        #(#attrs)*
        #[allow(
            // A trait may declare `-> impl Future<Output = T>`; its impl's coroutine returns a
            // `Runner`, a more precise type, on purpose.
            refining_impl_trait,
        )]
        #vis #sig {
            #body
        }
    }
}

/// `-> impl Future<Output = T>`, for the declared `-> T`: what a lazy coroutine returns, and what
/// a trait declares for a method implemented by a coroutine.
pub(crate) fn coroutine_output(output: &ReturnType) -> ReturnType {
    let output = result_type(output);
    syn::parse_quote!(-> impl ::core::future::Future<Output = #output>)
}

/// `-> Runner<impl Future<Output = T>>`, for the declared `-> T`.
fn runner_output(krate: &Path, output: &ReturnType) -> ReturnType {
    let output = result_type(output);
    syn::parse_quote!(-> #krate::Runner<impl ::core::future::Future<Output = #output>>)
}

/// `-> !` becomes `-> Never`, the same type under a name stable Rust accepts as a generic
/// argument (`Future<Output = !>` is unstable; an `async fn` may say `-> !` only because rustc
/// writes its future type itself).
fn name_never(krate: &Path, output: &mut ReturnType) {
    if let ReturnType::Type(_, ty) = output {
        if let Type::Never(never) = &**ty {
            let krate = respanned(krate.to_token_stream(), never.span());
            **ty = syn::parse_quote_spanned!(never.span()=> #krate::__private::Never);
        }
    }
}

/// The declared result type: what the user wrote after `->`, or `()`.
pub(crate) fn result_type(output: &ReturnType) -> Type {
    match output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    }
}

/// `if false { return declared::<T>(); }`: fixes the `async` block's output type to the declared
/// one before the body's first `return`, spanned on the declared type so that rustc's "return
/// type inferred to be `T` here" points at it. Nothing when `T` mentions `impl Trait` or is `!`.
fn declared_output(krate: &Path, output: &ReturnType) -> TokenStream {
    let ty = result_type(output);
    // (A body declared `-> !` diverges: a `return` before it would be unreachable code.)
    if mentions_impl_trait(&ty) || matches!(ty, Type::Never(_)) {
        return TokenStream::new();
    }
    let span = match output {
        ReturnType::Default => Span::call_site(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    // The runtime's path too, or rustc would point at the attribute instead.
    let krate = respanned(krate.to_token_stream(), span);
    quote_spanned! {span=>
        if false {
            return #krate::__private::declared::<#ty>();
        }
    }
}

/// `tokens`, every one of them moved to `span`.
pub(crate) fn respanned(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut inner = Group::new(group.delimiter(), respanned(group.stream(), span));
                inner.set_span(span);
                tree = TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// Moves every argument into the future, in declaration order, as an `async fn` does: the
/// body's locals come after them, so everything drops in reverse declaration order when the
/// future finishes or is dropped.
///
/// ```text
/// Input:  fn f(#[cfg(x)] mut a: A, (b, c): (B, C), _: D)
/// Output: fn f(#[cfg(x)] a: A, __coroutine_arg1: (B, C), __coroutine_arg2: D)
///         and, first in the `async move` block,
///         #[cfg(x)] let mut a = a;
///         let __coroutine_arg1 = __coroutine_arg1; let (b, c) = __coroutine_arg1;
///         let __coroutine_arg2 = __coroutine_arg2; let _ = __coroutine_arg2;
/// ```
///
/// Each `let` carries the argument's attributes, so a `#[cfg]`-disabled argument leaves no
/// statement behind, and a lint attribute on an argument covers its binding. `self` cannot be
/// rebound: `let _ = &self;` makes the future own it, and it drops last, as it does in an
/// `async fn`.
fn bind_arguments(sig: &Signature) -> (Signature, Vec<TokenStream>) {
    let mut sig = sig.clone();
    let mut bindings = Vec::new();
    for (i, input) in sig.inputs.iter_mut().enumerate() {
        let typed = match input {
            FnArg::Receiver(receiver) => {
                let attrs = &receiver.attrs;
                let token = &receiver.self_token;
                bindings.push(quote!(#(#attrs)* let _ = &#token;));
                continue;
            }
            FnArg::Typed(typed) => typed,
        };
        let attrs = &typed.attrs;
        if let Pat::Ident(name) = &mut *typed.pat {
            if name.subpat.is_none() && name.by_ref.is_none() {
                // The `mut` moves to the binding the body uses.
                let mutability = name.mutability.take();
                let name = &name.ident;
                bindings.push(quote! {
                    #(#attrs)*
                    // An argument named `_unused` is used here, by the macro, not by the user.
                    #[allow(clippy::used_underscore_binding)]
                    let #mutability #name = #name;
                });
                continue;
            }
        }
        let name = format_ident!("__coroutine_arg{}", i, span = Span::mixed_site());
        let pat = std::mem::replace(&mut *typed.pat, syn::parse_quote!(#name));
        // A `ref mut` in the pattern borrows the moved argument mutably.
        let mutability = binds_by_ref_mut(&pat).then(<syn::Token![mut]>::default);
        bindings.push(quote! {
            #(#attrs)* let #mutability #name = #name;
            #(#attrs)* let #pat = #name;
        });
    }
    (sig, bindings)
}

/// Whether `pat` binds a name by `ref mut`.
fn binds_by_ref_mut(pat: &Pat) -> bool {
    /// Sets its flag on finding `ref mut name`.
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
            self.0 |= pat.by_ref.is_some() && pat.mutability.is_some();
            syn::visit::visit_pat_ident(self, pat);
        }
    }
    let mut finder = Finder(false);
    finder.visit_pat(pat);
    finder.0
}

/// Whether `ty` contains `impl Trait`.
pub(crate) fn mentions_impl_trait(ty: &Type) -> bool {
    /// Sets its flag on finding `impl Trait`.
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    finder.visit_type(ty);
    finder.0
}

/// All errors as one, or `None`.
pub(crate) fn combine(errors: impl IntoIterator<Item = syn::Error>) -> Option<syn::Error> {
    errors.into_iter().reduce(|mut all, next| {
        all.combine(next);
        all
    })
}
