//! `AWS::SecretsManager::Secret` and `AWS::SecretsManager::SecretTargetAttachment`,
//! made in the sandbox's Secrets Manager. A generated secret's value never
//! leaves Secrets Manager except through GetSecretValue and dynamic references.
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-secretsmanager-secret.html>

use serde_json::{Map, Value as Json};

use super::{Change, Props, ProvisionError, Provisioned, ResourceRequest};
use crate::secretsmanager::SecretProperties;
use crate::service::CallContext;
use crate::state::SandboxState;

fn failed(error: &crate::error::AwsError) -> ProvisionError {
    ProvisionError::service("SecretsManager", error)
}

/// `Ref` and `Id` are the secret's ARN.
fn secret_attributes(arn: &str) -> Provisioned {
    Provisioned::new(arn).with("Id", arn)
}

/// The connection details SecretTargetAttachment merges into the secret:
/// the RDS instance's engine, host, port and identifier.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-secretsmanager-secrettargetattachment.html>
fn target_connection(state: &SandboxState, props: &Props) -> Result<Map<String, Json>, ProvisionError> {
    let target_type = props.required_str("TargetType")?;
    let target_id = props.required_str("TargetId")?;
    if target_type != "AWS::RDS::DBInstance" {
        return Err(ProvisionError::validation(
            props.logical_id,
            &format!(
                "#/TargetType: the Keywatch sandbox attaches secrets to AWS::RDS::DBInstance only, not {target_type}"
            ),
        ));
    }
    let instance = state
        .rds
        .db_instances
        .values()
        .find(|instance| instance.identifier == target_id || instance.arn == target_id)
        .ok_or_else(|| super::ProvisionError::not_found("AWS::RDS::DBInstance", &target_id))?;
    let mut connection = Map::new();
    connection.insert("engine".into(), Json::String(instance.engine.clone()));
    connection.insert("host".into(), Json::String(instance.endpoint_address.clone()));
    connection.insert("port".into(), Json::from(instance.port));
    connection.insert("dbInstanceIdentifier".into(), Json::String(instance.identifier.clone()));
    if let Some(name) = &instance.db_name {
        connection.insert("dbname".into(), Json::String(name.clone()));
    }
    Ok(connection)
}

pub(super) fn create(
    state: &mut SandboxState,
    ctx: &CallContext,
    request: &ResourceRequest,
) -> Result<Provisioned, ProvisionError> {
    let props = Props::of(request);
    match request.resource_type {
        "AWS::SecretsManager::Secret" => {
            let properties: SecretProperties = serde_json::from_value(request.properties.clone())
                .map_err(|error| ProvisionError::validation(request.logical_id, &format!("#: {error}")))?;
            let arn = state
                .secretsmanager
                .create_from_template(
                    &ctx.region,
                    &ctx.partition,
                    ctx.account(),
                    request.logical_id,
                    &properties,
                    ctx.now,
                )
                .map_err(|e| failed(&e))?;
            Ok(secret_attributes(&arn))
        }
        "AWS::SecretsManager::SecretTargetAttachment" => {
            let secret_id = props.required_str("SecretId")?;
            let connection = target_connection(state, &props)?;
            let arn = state
                .secretsmanager
                .attach_target(&ctx.region, &secret_id, &connection, ctx.now)
                .map_err(|e| failed(&e))?;
            Ok(Provisioned::new(arn))
        }
        other => Err(super::unsupported(other)),
    }
}

pub(super) fn update(
    state: &mut SandboxState,
    ctx: &CallContext,
    change: &Change,
) -> Result<Provisioned, ProvisionError> {
    let props = change.props();
    match change.request.resource_type {
        "AWS::SecretsManager::Secret" => {
            if change.changed("SecretString")
                && let Some(text) = props.str("SecretString")?
            {
                state
                    .secretsmanager
                    .put_value(
                        &ctx.region,
                        &change.current.physical_id,
                        crate::secretsmanager::SecretValue::String(text),
                        None,
                        None,
                        ctx.now,
                    )
                    .map_err(|e| failed(&e))?;
            }
            Ok(change.current.clone())
        }
        "AWS::SecretsManager::SecretTargetAttachment" => {
            let secret_id = props.required_str("SecretId")?;
            let connection = target_connection(state, &props)?;
            state
                .secretsmanager
                .attach_target(&ctx.region, &secret_id, &connection, ctx.now)
                .map_err(|e| failed(&e))?;
            Ok(change.current.clone())
        }
        other => Err(super::unsupported(other)),
    }
}

pub(super) fn delete(
    state: &mut SandboxState,
    ctx: &CallContext,
    resource_type: &str,
    current: &Provisioned,
) -> Result<(), ProvisionError> {
    match resource_type {
        // CloudFormation deletes a stack's secret without a recovery window.
        "AWS::SecretsManager::Secret" => {
            state.secretsmanager.force_delete(&ctx.region, &current.physical_id, ctx.now).map_err(|e| failed(&e))
        }
        // Detaching leaves the secret's connection details in place, as AWS does.
        "AWS::SecretsManager::SecretTargetAttachment" => Ok(()),
        other => Err(super::unsupported(other)),
    }
}
