//! Code generation: a coroutine fn becomes a fn that returns a future.
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
//!     #[must_use = "…"]
//!     fn get_categories(db: &Db) -> impl Future<Output = Vec<Category>> {
//!         Runner::start(async move {
//!             let _ = &db;
//!             let __coroutine_ret: Vec<Category> = {
//!                 let categories = yielded(db.categories()).await;
//!                 return unwrap_return(Return(categories));
//!             };
//!             __coroutine_ret
//!         })
//!     }
//! ```
//!
//! With `#[coroutine(lazy)]` the `Runner::start(…)` wrapper is left out.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::Parser;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{
    Attribute, Block, FnArg, ImplItem, Item, Pat, ReturnType, Signature, Stmt, Type, Visibility,
};

use crate::args::Args;
use crate::yields::{ReturnRewriter, YieldRewriter};
use crate::{fallback, valid};

/// The message of the `#[must_use]` put on every coroutine fn.
const MUST_USE: &str = "a coroutine that is dropped without being awaited is cancelled at its \
    first suspension; `.await` it, yield it, or run it in the background with `spawn_callback`";

/// `#[coroutine(args)] item`.
pub(crate) fn coroutine(args: TokenStream, input: TokenStream) -> TokenStream {
    let item: Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => {
            let error = unparsable(input.clone(), error);
            return fallback::unchanged(input, &error);
        }
    };
    let (args, args_error) = match syn::parse2::<Args>(args) {
        Ok(args) => (args, None),
        Err(error) => (Args::default(), Some(error)),
    };
    let function = match valid::coroutine_fn(&item) {
        Ok(function) => function,
        Err(error) => return fallback::unchanged(input, &error),
    };
    let mut tokens = coroutine_fn(
        &function.attrs,
        &function.vis,
        &function.sig,
        &function.block,
        &args,
    );
    if let Some(error) = args_error {
        tokens.extend(error.to_compile_error());
    }
    tokens
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
    let mut out = TokenStream::new();
    for item in items {
        match item {
            Item::Fn(mut function) => {
                let args = take_args(&mut function.attrs, &mut out);
                out.extend(coroutine_fn(
                    &function.attrs,
                    &function.vis,
                    &function.sig,
                    &function.block,
                    &args,
                ));
            }
            Item::Impl(mut block) => {
                let mut methods = Vec::new();
                for member in std::mem::take(&mut block.items) {
                    match member {
                        ImplItem::Fn(mut method) => {
                            let args = take_args(&mut method.attrs, &mut out);
                            methods.push(ImplItem::Verbatim(coroutine_fn(
                                &method.attrs,
                                &method.vis,
                                &method.sig,
                                &method.block,
                                &args,
                            )));
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
    out
}

/// Removes a `#[coroutine(…)]` attribute from `attrs` and parses its arguments; errors go to `out`.
fn take_args(attrs: &mut Vec<Attribute>, out: &mut TokenStream) -> Args {
    let Some(position) = attrs.iter().position(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "coroutine")
    }) else {
        return Args::default();
    };
    let attr = attrs.remove(position);
    if matches!(attr.meta, syn::Meta::Path(_)) {
        return Args::default();
    }
    match attr.parse_args::<Args>() {
        Ok(args) => args,
        Err(error) => {
            out.extend(error.to_compile_error());
            Args::default()
        }
    }
}

/// The coroutine made of one fn's parts, or the fallback with errors.
fn coroutine_fn(
    attrs: &[Attribute],
    vis: &Visibility,
    sig: &Signature,
    block: &Block,
    args: &Args,
) -> TokenStream {
    let krate = &args.krate;
    let mut body = block.clone();
    let mut yields = YieldRewriter::new(krate);
    yields.visit_block_mut(&mut body);
    if let Some(error) = combine(yields.errors) {
        return fallback::coroutine(attrs, vis, sig, krate, &error);
    }
    ReturnRewriter { krate }.rewrite_body(&mut body);

    let (sig, bindings) = bind_arguments(sig);
    let moves = argument_moves(&sig);
    let output = result_type(&sig.output);
    let typed_result = if mentions_impl_trait(&output) {
        // `let x: impl Trait` is not allowed; the output bound still fixes the type.
        quote!(#body)
    } else {
        let ret = format_ident!("__coroutine_ret", span = Span::mixed_site());
        quote! {
            #[allow(clippy::let_and_return, clippy::needless_return)]
            let #ret: #output = #body;
            #[allow(unreachable_code)]
            #ret
        }
    };
    let future = quote_spanned! {Span::mixed_site()=>
        async move {
            #(#moves)*
            #(#bindings)*
            #typed_result
        }
    };
    let body = if args.lazy {
        future
    } else {
        quote!(#krate::__private::Runner::start(#future))
    };
    let sig = coroutine_signature(&sig);
    quote! {
        #(#attrs)*
        #[must_use = #MUST_USE]
        #vis #sig {
            #body
        }
    }
}

/// The signature of the generated fn: the same, returning `impl Future<Output = T>`.
pub(crate) fn coroutine_signature(sig: &Signature) -> Signature {
    let mut sig = sig.clone();
    let output = result_type(&sig.output);
    sig.output = syn::parse_quote!(-> impl ::core::future::Future<Output = #output>);
    sig
}

/// The declared result type: what the user wrote after `->`, or `()`.
fn result_type(output: &ReturnType) -> Type {
    match output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    }
}

/// Renames arguments bound by a pattern other than a plain name, so the future can own them:
/// `(a, b): (u8, u8)` becomes `__coroutine_arg0: (u8, u8)`, and `let (a, b) = __coroutine_arg0;`
/// goes first in the body.
fn bind_arguments(sig: &Signature) -> (Signature, Vec<Stmt>) {
    let mut sig = sig.clone();
    let mut bindings = Vec::new();
    for (i, input) in sig.inputs.iter_mut().enumerate() {
        let FnArg::Typed(typed) = input else { continue };
        if matches!(&*typed.pat, Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none()) {
            continue;
        }
        let name = format_ident!("__coroutine_arg{}", i, span = Span::mixed_site());
        let pat = std::mem::replace(&mut *typed.pat, syn::parse_quote!(#name));
        bindings.push(syn::parse_quote!(let #pat = #name;));
    }
    (sig, bindings)
}

/// `let _ = &arg;` for every argument, so the future owns it (and drops it when it finishes,
/// as an `async fn` does) even when the body never mentions it.
fn argument_moves(sig: &Signature) -> Vec<TokenStream> {
    sig.inputs
        .iter()
        .map(|input| match input {
            FnArg::Receiver(receiver) => {
                let token = &receiver.self_token;
                quote!(let _ = &#token;)
            }
            FnArg::Typed(typed) => {
                let pat = &typed.pat;
                quote!(let _ = &#pat;)
            }
        })
        .collect()
}

/// Whether `ty` contains `impl Trait`.
fn mentions_impl_trait(ty: &Type) -> bool {
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
fn combine(errors: Vec<syn::Error>) -> Option<syn::Error> {
    errors.into_iter().reduce(|mut all, next| {
        all.combine(next);
        all
    })
}

/// A clearer error for input that is not an item, such as a fn without a body.
fn unparsable(input: TokenStream, error: syn::Error) -> syn::Error {
    match syn::parse2::<syn::TraitItemFn>(input) {
        Ok(declaration) if declaration.default.is_none() => syn::Error::new_spanned(
            &declaration.sig.fn_token,
            "`#[coroutine]` needs a fn with a body; in a trait, declare \
             `fn name(&self) -> impl Future<Output = T>` and put `#[coroutine]` on the impl's fn",
        ),
        _ => error,
    }
}
