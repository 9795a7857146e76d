//! How the console reports failures and empty states.

use leptos::prelude::*;

use crate::error::AppError;

/// A failure, with its kind as the heading and a hint at what to do.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    let hint = match &error {
        AppError::Credentials(_) => Some(
            "Configure credentials (aws configure, or AWS_PROFILE / --profile), check the region, \
             or start Keywatch with --aws sandbox to use the built-in sandbox.",
        ),
        AppError::Unavailable(_) => Some("Keywatch will keep working; try again in a moment."),
        _ => None,
    };
    view! {
        <section class="panel panel-error" role="alert">
            <h2>{error.title()}</h2>
            <p>{error.to_string()}</p>
            {hint.map(|hint| view! { <p class="hint">{hint}</p> })}
        </section>
    }
}
