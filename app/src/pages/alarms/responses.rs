//! The alarm page's Response panel: what Keywatch does when the alarm fires
//! (each playbook off, notify only, ask for approval or automatic, with its
//! consequences stated before it is chosen), and the responses made to the
//! alarm's episodes with their Approve, Refuse and Revert buttons.

use std::time::Duration;

use keywatch_domain::response::{Decision, Playbook, ResponseMode, ResponseStatus};
use leptos::prelude::*;

use crate::api::responses::{
    AddWindow, AlarmResponses, AlarmResponsesRequest, DecideResponse, DecisionRequest, EndWindow, EndWindowRequest,
    PlaybookRequest, ResponseView, SetPlaybook, WindowRequest, WindowView, get_alarm_responses,
};
use crate::components::feedback::ErrorPanel;
use crate::error::AppError;

/// How often the panel looks for new responses (an automatic one follows
/// the alarm by one history round).
pub(crate) const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// The panel for `alarm_name`. The playbook forms are drawn when the panel
/// loads and after a save, never by the refresh, which would wipe what is
/// being typed; the refresh redraws the responses only.
#[component]
pub fn ResponsePanel(alarm_name: String) -> impl IntoView {
    let settings: RwSignal<Option<Result<AlarmResponses, AppError>>> = RwSignal::new(None);
    let responses: RwSignal<Vec<ResponseView>> = RwSignal::new(Vec::new());
    let windows: RwSignal<Vec<WindowView>> = RwSignal::new(Vec::new());
    let load = {
        let alarm_name = alarm_name.clone();
        move || {
            let alarm_name = alarm_name.clone();
            leptos::task::spawn_local(async move {
                // The forms are drawn once, so only the first load reads the suggestions.
                let with_suggestions = settings.with_untracked(|s| !matches!(s, Some(Ok(_))));
                let loaded = get_alarm_responses(AlarmResponsesRequest { alarm_name, with_suggestions }).await;
                match loaded {
                    Ok(found) => {
                        // Redrawn only when something changed: a button
                        // being clicked stays where it is.
                        if responses.with_untracked(|shown| *shown != found.responses) {
                            responses.set(found.responses.clone());
                        }
                        if windows.with_untracked(|shown| *shown != found.windows) {
                            windows.set(found.windows.clone());
                        }
                        if settings.with_untracked(|s| !matches!(s, Some(Ok(_)))) {
                            settings.set(Some(Ok(found)));
                        }
                    }
                    // A failed refresh keeps what is shown unless nothing is.
                    Err(error) if settings.with_untracked(Option::is_none) => settings.set(Some(Err(error))),
                    Err(_) => {}
                }
            });
        }
    };
    let load_now = load.clone();
    Effect::new(move |_| {
        load_now();
        if let Ok(handle) = set_interval_with_handle(load_now.clone(), REFRESH_EVERY) {
            on_cleanup(move || handle.clear());
        }
    });
    let set = ServerAction::<SetPlaybook>::new();
    let decide = ServerAction::<DecideResponse>::new();
    let add_window = ServerAction::<AddWindow>::new();
    let end_window = ServerAction::<EndWindow>::new();
    // Each action's latest answer, as it arrives (one effect each: the
    // other action's older answer must not overwrite it).
    Effect::new(move |_| {
        if let Some(Ok(now)) = add_window.value().get() {
            windows.set(now.windows);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(now)) = end_window.value().get() {
            windows.set(now.windows);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(now)) = set.value().get() {
            responses.set(now.responses.clone());
            settings.set(Some(Ok(now)));
        }
    });
    Effect::new(move |_| {
        if decide.value().get().is_some() {
            load();
        }
    });
    view! {
        <section class="panel" aria-label="Response">
            <h2>"Response"</h2>
            <p class="hint">
                "What Keywatch does when this alarm goes into ALARM. Each episode gets at most one response per \
                 playbook, recorded here and in the audit log; a response that changed something can be reverted."
            </p>
            {move || match settings.get() {
                None => view! { <p class="loading">"Reading the responses…"</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel error /> }.into_any(),
                Some(Ok(found)) => found.playbooks.iter().map(|playbook| {
                    let role = playbook.role_arn.clone().or_else(|| found.suggested_role_arn.clone()).unwrap_or_default();
                    let key = playbook.key_arn.clone().or_else(|| found.suggested_key_arn.clone()).unwrap_or_default();
                    view! {
                        <PlaybookForm alarm_name=found.alarm_name.clone() playbook=playbook.playbook
                            mode=playbook.mode role key set />
                    }
                }).collect_view().into_any(),
            }}
            {move || view! { <ResponsesTable responses=responses.get() decide /> }}
            <MaintenanceWindows alarm_name=alarm_name.clone() windows add_window end_window />
            {move || set.value().get().and_then(Result::err).map(|error| view! { <ErrorPanel error /> })}
            {move || decide.value().get().and_then(Result::err).map(|error| view! { <ErrorPanel error /> })}
        </section>
    }
}

#[component]
fn PlaybookForm(
    alarm_name: String,
    playbook: Playbook,
    mode: Option<ResponseMode>,
    role: String,
    key: String,
    set: ServerAction<SetPlaybook>,
) -> impl IntoView {
    let chosen = RwSignal::new(mode.map_or("off", ResponseMode::as_str).to_owned());
    let role = RwSignal::new(role);
    let key = RwSignal::new(key);
    let slug = playbook.as_str();
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        set.dispatch(SetPlaybook {
            request: PlaybookRequest {
                alarm_name: alarm_name.clone(),
                playbook,
                mode: ResponseMode::parse(&chosen.get_untracked()),
                role_arn: role.get_untracked(),
                key_arn: key.get_untracked(),
            },
        });
    };
    let field_error = move |field: &str| match set.value().get().and_then(Result::err) {
        Some(AppError::InvalidInput { field: Some(f), message }) if f == field => Some(message),
        _ => None,
    };
    view! {
        <form class="form-grid" on:submit=on_submit novalidate aria-label=playbook.title()>
            <h3>{playbook.title()}</h3>
            <p class="hint">{playbook.consequences()}</p>
            <div class="field">
                <label for=format!("{slug}-mode")>"When the alarm fires"</label>
                <select id=format!("{slug}-mode") prop:value=move || chosen.get()
                    on:change=move |event| chosen.set(event_target_value(&event))>
                    <option value="off">"Off"</option>
                    {ResponseMode::ALL.into_iter().map(|mode| view! {
                        <option value=mode.as_str()>{mode.title()}</option>
                    }).collect_view()}
                </select>
            </div>
            {(playbook == Playbook::ContainRole).then(|| view! {
                <div class="field">
                    <label for=format!("{slug}-role")>"Role ARN"</label>
                    <input id=format!("{slug}-role") type="text" prop:value=move || role.get()
                        on:input=move |event| role.set(event_target_value(&event)) />
                    <p class="field-error" role="alert">{move || field_error("roleArn")}</p>
                </div>
            })}
            <div class="field">
                <label for=format!("{slug}-key")>"Key ARN"</label>
                <input id=format!("{slug}-key") type="text" prop:value=move || key.get()
                    on:input=move |event| key.set(event_target_value(&event)) />
                <p class="field-error" role="alert">{move || field_error("keyArn")}</p>
            </div>
            <div class="actions">
                <button type="submit" class="button" disabled=move || set.pending().get()>"Save"</button>
            </div>
        </form>
    }
}

#[component]
pub(crate) fn ResponsesTable(
    responses: Vec<ResponseView>,
    decide: ServerAction<DecideResponse>,
    /// Adds a first column naming each response's alarm, linked to its page
    /// (the list of every alarm's responses).
    #[prop(optional)]
    show_alarm: bool,
) -> impl IntoView {
    if responses.is_empty() {
        return view! { <p class="empty">"No responses yet."</p> }.into_any();
    }
    let button = move |id: i64, decision: Decision, label: &'static str| {
        view! {
            <button type="button" class="button" disabled=move || decide.pending().get()
                on:click=move |_| { decide.dispatch(DecideResponse { request: DecisionRequest { id, decision } }); }>
                {label}
            </button>
        }
    };
    view! {
        <table class="table" aria-label="Responses">
            <thead><tr>
                {show_alarm.then(|| view! { <th>"Alarm"</th> })}
                <th>"Alarm fired"</th><th>"Playbook"</th><th>"Target"</th><th>"Status"</th>
                <th>"Time to contain"</th><th>"By"</th><th>"Detail"</th><th>"Actions"</th>
            </tr></thead>
            <tbody>
                {responses.into_iter().map(|response| {
                    let id = response.id;
                    let actions = match response.status {
                        ResponseStatus::AwaitingApproval => view! {
                            {button(id, Decision::Approve, "Approve")}{button(id, Decision::Refuse, "Refuse")}
                        }.into_any(),
                        ResponseStatus::Notified => button(id, Decision::Approve, "Run it").into_any(),
                        ResponseStatus::Done | ResponseStatus::Failed => button(id, Decision::Revert, "Revert").into_any(),
                        _ => ().into_any(),
                    };
                    let by = [response.decided_by.clone(), response.reverted_by.clone().map(|who| format!("reverted by {who}"))]
                        .into_iter().flatten().collect::<Vec<_>>().join("; ");
                    view! {
                        <tr data-testid=format!("response-{id}")>
                            {show_alarm.then(|| view! {
                                <td><a href=super::alarm_href(&response.alarm_name)>{response.alarm_name.clone()}</a></td>
                            })}
                            <td>{response.episode_at.clone()}</td>
                            <td>{response.playbook.title()}" ("{response.mode.title()}")"</td>
                            <td><code>{response.target.clone()}</code></td>
                            <td data-testid="response-status">{response.status.as_str()}</td>
                            <td>{response.time_to_contain_ms.map(|ms| format!("{:.1} s", ms as f64 / 1000.0)).unwrap_or_default()}</td>
                            <td>{by}</td>
                            <td>{response.detail.clone().unwrap_or_default()}</td>
                            <td class="actions">{actions}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The alarm's maintenance windows: open one (now or later, for so many
/// minutes, saying why), see those not yet ended, end one now.
#[component]
fn MaintenanceWindows(
    alarm_name: String,
    windows: RwSignal<Vec<WindowView>>,
    add_window: ServerAction<AddWindow>,
    end_window: ServerAction<EndWindow>,
) -> impl IntoView {
    let starts_at = RwSignal::new(String::new());
    let duration = RwSignal::new("60".to_owned());
    let reason = RwSignal::new(String::new());
    let duration_error = RwSignal::new(None::<String>);
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        // The minutes are checked here; the window's rules on the server.
        let Ok(duration_minutes) = duration.get_untracked().trim().parse::<u32>() else {
            duration_error.set(Some("Give the length in whole minutes.".to_owned()));
            return;
        };
        duration_error.set(None);
        add_window.dispatch(AddWindow {
            request: WindowRequest {
                alarm_name: alarm_name.clone(),
                starts_at: starts_at.get_untracked(),
                duration_minutes,
                reason: reason.get_untracked(),
            },
        });
    };
    let server_error = move |field: &str| match add_window.value().get().and_then(Result::err) {
        Some(AppError::InvalidInput { field: Some(f), message }) if f == field => Some(message),
        _ => None,
    };
    view! {
        <form class="form-grid" on:submit=on_submit novalidate aria-label="Maintenance windows">
            <h3>"Maintenance windows"</h3>
            <p class="hint">
                "While a window is open the alarm's actions are disabled (DisableAlarmActions): CloudWatch still \
                 records its state changes, so History keeps them, but nobody is notified, and Keywatch's \
                 responses to its episodes are recorded without running. The actions are enabled again when \
                 the window closes."
            </p>
            <div class="field">
                <label for="window-start">"Starts (UTC; empty: now)"</label>
                <input id="window-start" type="datetime-local" prop:value=move || starts_at.get()
                    on:input=move |event| starts_at.set(event_target_value(&event)) />
                <p class="field-error" role="alert">{move || server_error("startsAt")}</p>
            </div>
            <div class="field">
                <label for="window-minutes">"Minutes"</label>
                <input id="window-minutes" type="text" inputmode="numeric" prop:value=move || duration.get()
                    on:input=move |event| duration.set(event_target_value(&event)) />
                <p class="field-error" role="alert">
                    {move || duration_error.get().or_else(|| server_error("durationMinutes"))}
                </p>
            </div>
            <div class="field">
                <label for="window-reason">"Reason"</label>
                <input id="window-reason" type="text" prop:value=move || reason.get()
                    on:input=move |event| reason.set(event_target_value(&event)) />
                <p class="field-error" role="alert">{move || server_error("reason")}</p>
            </div>
            <div class="actions">
                <button type="submit" class="button" disabled=move || add_window.pending().get()>"Open window"</button>
            </div>
        </form>
        {move || {
            let shown = windows.get();
            if shown.is_empty() {
                return view! { <p class="empty">"No maintenance window."</p> }.into_any();
            }
            view! {
                <table class="table" aria-label="Maintenance windows">
                    <thead><tr><th>"From"</th><th>"Until"</th><th>"Reason"</th><th>"By"</th><th>"State"</th><th></th></tr></thead>
                    <tbody>
                        {shown.into_iter().map(|window| {
                            let id = window.id;
                            view! {
                                <tr>
                                    <td>{window.starts_at.clone()}</td>
                                    <td>{window.ends_at.clone()}</td>
                                    <td>{window.reason.clone()}</td>
                                    <td>{window.created_by.clone()}</td>
                                    <td data-testid="window-state">{if window.open { "open: muted" } else { "coming" }}</td>
                                    <td>
                                        <button type="button" class="button" disabled=move || end_window.pending().get()
                                            on:click=move |_| { end_window.dispatch(EndWindow { request: EndWindowRequest { id } }); }>
                                            "End now"
                                        </button>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        {move || end_window.value().get().and_then(Result::err).map(|error| view! { <ErrorPanel error /> })}
        {move || match add_window.value().get().and_then(Result::err) {
            Some(AppError::InvalidInput { field: Some(_), .. }) | None => None,
            Some(error) => Some(view! { <ErrorPanel error /> }),
        }}
    }
}
