//! Checks that the item under `#[coroutine]` can become a coroutine.

use quote::ToTokens;
use syn::{Item, ItemFn};

/// The fn under the attribute, or an error pointing at what makes it unusable.
pub(crate) fn coroutine_fn(item: &Item) -> syn::Result<&ItemFn> {
    let Item::Fn(function) = item else {
        return Err(not_a_fn(item));
    };
    let sig = &function.sig;
    if let Some(token) = &sig.asyncness {
        return Err(syn::Error::new_spanned(
            token,
            "`#[coroutine]` cannot be applied to an `async fn`; remove `async`: a coroutine already returns a future",
        ));
    }
    if let Some(token) = &sig.constness {
        return Err(syn::Error::new_spanned(
            token,
            "`#[coroutine]` cannot be applied to a `const fn`; remove `const`: a coroutine suspends at run time",
        ));
    }
    if let Some(abi) = &sig.abi {
        return Err(syn::Error::new_spanned(
            abi,
            "`#[coroutine]` cannot be applied to an `extern` fn; remove the ABI: a coroutine returns a Rust future",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new_spanned(
            variadic,
            "`#[coroutine]` cannot be applied to a variadic fn",
        ));
    }
    Ok(function)
}

/// The error for an item that is not a fn, pointing at its keyword.
fn not_a_fn(item: &Item) -> syn::Error {
    let (keyword, what): (&dyn ToTokens, &str) = match item {
        Item::Struct(s) => (&s.struct_token, "a struct"),
        Item::Enum(e) => (&e.enum_token, "an enum"),
        Item::Union(u) => (&u.union_token, "a union"),
        Item::Trait(t) => (&t.trait_token, "a trait"),
        Item::Impl(i) => (
            &i.impl_token,
            "an impl block; put it on each method instead",
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
