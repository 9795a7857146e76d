//! One CloudFormation parameter as a form field: the wizard's section
//! forms and the Alarms page's detection forms draw their fields with it,
//! so both show a parameter, its hint and the message beside it the same
//! way. What is valid is decided by the caller with the domain crate's
//! rules (the same the server and CloudFormation apply).

use leptos::prelude::*;

/// A parameter's field: its name as the label, a text input (or a choice
/// among `allowed_values`), its description, and `error` beside it.
#[component]
pub fn ParameterField(
    /// The parameter's name: the label, and the input's `name`.
    name: String,
    /// The input's id; the message's id is `<id>-error`.
    id: String,
    value: RwSignal<String>,
    /// `AllowedValues`: a choice instead of free text when not empty.
    #[prop(optional)]
    allowed_values: Vec<String>,
    #[prop(optional_no_strip)] hint: Option<String>,
    /// Why the value is refused, in words; `None` while it is fine.
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let input = if allowed_values.is_empty() {
        view! {
            <input
                id=id.clone()
                name=name.clone()
                type="text"
                prop:value=move || value.get()
                on:input=move |event| value.set(event_target_value(&event))
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()
            />
        }
        .into_any()
    } else {
        view! {
            <select
                id=id.clone()
                name=name.clone()
                on:change=move |event| value.set(event_target_value(&event))
                aria-describedby=error_id.clone()
            >
                {allowed_values.into_iter().map(|allowed| {
                    let selected = allowed == value.get_untracked();
                    view! { <option value=allowed.clone() selected=selected>{allowed.clone()}</option> }
                }).collect_view()}
            </select>
        }
        .into_any()
    };
    view! {
        <div class="field">
            <label for=id>{name}</label>
            {input}
            {hint.map(|hint| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=error_id role="alert">{move || error.get()}</p>
        </div>
    }
}
