//! Checks that the item under `#[coroutine]` can become a coroutine.

use quote::ToTokens;
use syn::{Item, ItemFn, Signature};

/// The fn under the attribute, or an error pointing at what makes the item unusable.
pub(crate) fn item(item: &Item) -> syn::Result<&ItemFn> {
    match item {
        Item::Fn(function) => Ok(function),
        other => Err(not_a_fn(other)),
    }
}

/// Checks the signature of a coroutine fn; every problem is reported, at its keyword.
pub(crate) fn signature(sig: &Signature) -> syn::Result<()> {
    let errors = [
        error_at(
            sig.constness.as_ref(),
            "`#[coroutine]` cannot be applied to a `const fn`; remove `const`: a coroutine suspends at run time",
        ),
        error_at(
            sig.asyncness.as_ref(),
            "`#[coroutine]` cannot be applied to an `async fn`; remove `async`: a coroutine already returns a future",
        ),
        error_at(
            sig.abi.as_ref(),
            "`#[coroutine]` cannot be applied to an `extern` fn; remove the ABI: a coroutine returns a Rust future",
        ),
        error_at(
            sig.variadic.as_ref(),
            "`#[coroutine]` cannot be applied to a variadic fn; a coroutine's arguments are owned by its future",
        ),
    ];
    match crate::expand::combine(errors.into_iter().flatten()) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// An error with `message` at `token`, if the token is there (a `const`, an `async`…).
pub(crate) fn error_at(token: Option<&impl ToTokens>, message: &str) -> Option<syn::Error> {
    token.map(|token| syn::Error::new_spanned(token, message))
}

/// The error for an item that is not a fn, pointing at its keyword.
fn not_a_fn(item: &Item) -> syn::Error {
    if let Some(declaration) = declaration(item) {
        return syn::Error::new_spanned(
            &declaration.sig,
            "`#[coroutine]` needs a fn with a body; in a trait, declare \
             `fn name(&self) -> impl Future<Output = T>;` and put `#[coroutine]` on the impl's fn",
        );
    }
    let (keyword, what): (&dyn ToTokens, &str) = match item {
        Item::Struct(s) => (&s.struct_token, "a struct"),
        Item::Enum(e) => (&e.enum_token, "an enum"),
        Item::Union(u) => (&u.union_token, "a union"),
        Item::Trait(t) => (
            &t.trait_token,
            "a trait; put it on the methods of the trait's impls instead",
        ),
        Item::Impl(i) => (
            &i.impl_token,
            "an impl block; put it on each method instead, or wrap the block in `coroutines! { … }`",
        ),
        Item::Mod(m) => (&m.mod_token, "a module"),
        Item::Const(c) => (&c.const_token, "a const"),
        Item::Static(s) => (&s.static_token, "a static"),
        Item::Type(t) => (&t.type_token, "a type alias"),
        Item::Use(u) => (&u.use_token, "a use declaration"),
        other => (other, "this item"),
    };
    syn::Error::new_spanned(
        keyword,
        format!("`#[coroutine]` can only be applied to a fn, not to {what}"),
    )
}

/// The item, if it is a fn declaration without a body (syn keeps those as verbatim tokens).
pub(crate) fn declaration(item: &Item) -> Option<syn::TraitItemFn> {
    let Item::Verbatim(tokens) = item else {
        return None;
    };
    syn::parse2::<syn::TraitItemFn>(tokens.clone())
        .ok()
        .filter(|declaration| declaration.default.is_none())
}
