//! `AWS::SecretsManager::Secret` and `AWS::SecretsManager::SecretTargetAttachment`,
//! made in the sandbox's Secrets Manager. A generated secret's value never
//! leaves Secrets Manager except through GetSecretValue and dynamic references.
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-secretsmanager-secret.html>

use serde_json::{Map, Value as Json};

use super::{Create, Delete, Props, ProvisionError, Provisioned, ResourceType, Update};
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

pub(super) const RESOURCE_TYPES: &[ResourceType] = &[
    ResourceType {
        name: "AWS::SecretsManager::Secret",
        create: create_secret,
        update: update_secret,
        delete: delete_secret,
    },
    ResourceType {
        name: "AWS::SecretsManager::SecretTargetAttachment",
        create: create_attachment,
        update: update_attachment,
        delete: delete_attachment,
    },
];

fn create_secret(Create { state, ctx, request, .. }: Create) -> Result<Provisioned, ProvisionError> {
    let properties: SecretProperties = serde_json::from_value(request.properties.clone())
        .map_err(|error| ProvisionError::validation(request.logical_id, &format!("#: {error}")))?;
    let arn = state
        .secretsmanager
        .create_from_template(&ctx.region, &ctx.partition, ctx.account(), request.logical_id, &properties, ctx.now)
        .map_err(|e| failed(&e))?;
    Ok(secret_attributes(&arn))
}

fn update_secret(Update { state, ctx, change, props }: Update) -> Result<Provisioned, ProvisionError> {
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

/// CloudFormation deletes a stack's secret without a recovery window.
fn delete_secret(Delete { state, ctx, current, .. }: Delete) -> Result<(), ProvisionError> {
    state.secretsmanager.force_delete(&ctx.region, &current.physical_id, ctx.now).map_err(|e| failed(&e))
}

/// Attaches the target's connection details to the secret; returns the secret's ARN.
fn attach(state: &mut SandboxState, ctx: &CallContext, props: &Props) -> Result<String, ProvisionError> {
    let secret_id = props.required_str("SecretId")?;
    let connection = target_connection(state, props)?;
    state.secretsmanager.attach_target(&ctx.region, &secret_id, &connection, ctx.now).map_err(|e| failed(&e))
}

fn create_attachment(Create { state, ctx, props, .. }: Create) -> Result<Provisioned, ProvisionError> {
    Ok(Provisioned::new(attach(state, ctx, props)?))
}

fn update_attachment(Update { state, ctx, change, props }: Update) -> Result<Provisioned, ProvisionError> {
    attach(state, ctx, props)?;
    Ok(change.current.clone())
}

/// Detaching leaves the secret's connection details in place, as AWS does.
fn delete_attachment(Delete { .. }: Delete) -> Result<(), ProvisionError> {
    Ok(())
}
