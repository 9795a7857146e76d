//! The catalog of resource types the lab's templates use (plus the few the
//! sandbox also provisions): their `Fn::GetAtt` attribute names, the
//! properties whose update requires replacement, the property that names the
//! physical resource and the deletion policy CloudFormation applies when the
//! template gives none. Facts from the AWS resource and property reference,
//! https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-template-resource-type-ref.html

use super::template::DeletionPolicy;

/// What CloudFormation documents about one resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceType {
    /// The type name, e.g. `AWS::EC2::VPC`.
    pub name: &'static str,
    /// Attribute names valid in `Fn::GetAtt`.
    pub attributes: &'static [&'static str],
    /// Properties documented "Update requires: Replacement" (or conditional replacement).
    pub replacement_properties: &'static [&'static str],
    /// The property that sets the physical name, when the type has one.
    pub name_property: Option<&'static str>,
    /// The policy applied when the template declares no `DeletionPolicy`.
    pub default_deletion_policy: DeletionPolicy,
}

const fn entry(
    name: &'static str,
    attributes: &'static [&'static str],
    replacement_properties: &'static [&'static str],
    name_property: Option<&'static str>,
) -> ResourceType {
    ResourceType {
        name,
        attributes,
        replacement_properties,
        name_property,
        default_deletion_policy: DeletionPolicy::Delete,
    }
}

static CATALOG: &[ResourceType] = &[
    entry("AWS::CloudTrail::Trail", &["Arn", "SnsTopicArn"], &["TrailName"], Some("TrailName")),
    entry("AWS::CloudWatch::Alarm", &["Arn"], &["AlarmName"], Some("AlarmName")),
    entry("AWS::CloudWatch::CompositeAlarm", &["Arn"], &["AlarmName"], Some("AlarmName")),
    entry(
        "AWS::EC2::EIP",
        &["AllocationId", "PublicIp"],
        &["Address", "Domain", "IpamPoolId", "NetworkBorderGroup", "PublicIpv4Pool"],
        None,
    ),
    entry("AWS::EC2::InternetGateway", &["InternetGatewayId"], &[], None),
    entry(
        "AWS::EC2::NatGateway",
        &["NatGatewayId"],
        &["AllocationId", "ConnectivityType", "PrivateIpAddress", "SubnetId"],
        None,
    ),
    entry(
        "AWS::EC2::Route",
        &["CidrBlock"],
        &["DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId", "RouteTableId"],
        None,
    ),
    entry("AWS::EC2::RouteTable", &["RouteTableId"], &["VpcId"], None),
    entry(
        "AWS::EC2::SecurityGroup",
        &["GroupId", "VpcId"],
        &["GroupDescription", "GroupName", "VpcId"],
        Some("GroupName"),
    ),
    entry(
        "AWS::EC2::Subnet",
        &[
            "AvailabilityZone",
            "AvailabilityZoneId",
            "CidrBlock",
            "Ipv6CidrBlocks",
            "NetworkAclAssociationId",
            "OutpostArn",
            "SubnetId",
            "VpcId",
        ],
        &[
            "AvailabilityZone",
            "AvailabilityZoneId",
            "CidrBlock",
            "Ipv4IpamPoolId",
            "Ipv4NetmaskLength",
            "OutpostArn",
            "VpcId",
        ],
        None,
    ),
    entry("AWS::EC2::SubnetRouteTableAssociation", &["Id"], &["SubnetId"], None),
    entry(
        "AWS::EC2::VPC",
        &["CidrBlock", "CidrBlockAssociations", "DefaultNetworkAcl", "DefaultSecurityGroup", "Ipv6CidrBlocks", "VpcId"],
        &["CidrBlock", "InstanceTenancy", "Ipv4IpamPoolId", "Ipv4NetmaskLength"],
        None,
    ),
    entry("AWS::EC2::VPCGatewayAttachment", &[], &[], None),
    entry(
        "AWS::ECR::Repository",
        &["Arn", "RepositoryUri"],
        &["EncryptionConfiguration", "RepositoryName"],
        Some("RepositoryName"),
    ),
    entry("AWS::ECS::Cluster", &["Arn"], &["ClusterName"], Some("ClusterName")),
    entry(
        "AWS::ECS::Service",
        &["Name", "ServiceArn"],
        &["Cluster", "DeploymentController", "LaunchType", "Role", "SchedulingStrategy", "ServiceName"],
        Some("ServiceName"),
    ),
    entry(
        "AWS::ECS::TaskDefinition",
        &["TaskDefinitionArn"],
        &[
            "ContainerDefinitions",
            "Cpu",
            "EphemeralStorage",
            "ExecutionRoleArn",
            "Family",
            "IpcMode",
            "Memory",
            "NetworkMode",
            "PidMode",
            "PlacementConstraints",
            "ProxyConfiguration",
            "RequiresCompatibilities",
            "RuntimePlatform",
            "TaskRoleArn",
            "Volumes",
        ],
        Some("Family"),
    ),
    entry("AWS::ElasticLoadBalancingV2::Listener", &["ListenerArn"], &["LoadBalancerArn"], None),
    entry(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        &[
            "CanonicalHostedZoneID",
            "DNSName",
            "LoadBalancerArn",
            "LoadBalancerFullName",
            "LoadBalancerName",
            "SecurityGroups",
        ],
        &["Name", "Scheme", "Type"],
        Some("Name"),
    ),
    entry(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        &["LoadBalancerArns", "TargetGroupArn", "TargetGroupFullName", "TargetGroupName"],
        &["IpAddressType", "Name", "Port", "Protocol", "ProtocolVersion", "TargetType", "VpcId"],
        Some("Name"),
    ),
    entry("AWS::IAM::AccessKey", &["SecretAccessKey"], &["Serial", "UserName"], None),
    entry("AWS::IAM::Group", &["Arn"], &["GroupName"], Some("GroupName")),
    entry("AWS::IAM::InstanceProfile", &["Arn"], &["InstanceProfileName", "Path"], Some("InstanceProfileName")),
    entry(
        "AWS::IAM::ManagedPolicy",
        &[
            "AttachmentCount",
            "CreateDate",
            "DefaultVersionId",
            "IsAttachable",
            "PermissionsBoundaryUsageCount",
            "PolicyArn",
            "PolicyId",
            "UpdateDate",
        ],
        &["Description", "ManagedPolicyName", "Path"],
        Some("ManagedPolicyName"),
    ),
    entry("AWS::IAM::Policy", &["Id"], &[], None),
    entry("AWS::IAM::Role", &["Arn", "RoleId"], &["Path", "RoleName"], Some("RoleName")),
    entry("AWS::IAM::User", &["Arn"], &["UserName"], Some("UserName")),
    entry("AWS::IAM::UserToGroupAddition", &[], &[], None),
    entry("AWS::KMS::Alias", &[], &["AliasName"], Some("AliasName")),
    entry("AWS::KMS::Key", &["Arn", "KeyId"], &["KeySpec", "KeyUsage", "MultiRegion", "Origin"], None),
    entry("AWS::Logs::LogGroup", &["Arn"], &["LogGroupName"], Some("LogGroupName")),
    entry("AWS::Logs::LogStream", &[], &["LogGroupName", "LogStreamName"], Some("LogStreamName")),
    entry("AWS::Logs::MetricFilter", &[], &["FilterName", "LogGroupName"], Some("FilterName")),
    // DBInstances without DBClusterIdentifier default to Snapshot
    // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html);
    // Template::parse applies the DBClusterIdentifier exception.
    ResourceType {
        name: "AWS::RDS::DBInstance",
        attributes: &[
            "CertificateDetails.CAIdentifier",
            "CertificateDetails.ValidTill",
            "DBInstanceArn",
            "DBSystemId",
            "DbiResourceId",
            "Endpoint.Address",
            "Endpoint.HostedZoneId",
            "Endpoint.Port",
            "MasterUserSecret.SecretArn",
        ],
        replacement_properties: &[
            "AvailabilityZone",
            "CharacterSetName",
            "DBClusterIdentifier",
            "DBInstanceIdentifier",
            "DBName",
            "DBSnapshotIdentifier",
            "DBSubnetGroupName",
            "Engine",
            "KmsKeyId",
            "MasterUsername",
            "SourceDBInstanceIdentifier",
            "SourceRegion",
            "StorageEncrypted",
            "Timezone",
        ],
        name_property: Some("DBInstanceIdentifier"),
        default_deletion_policy: DeletionPolicy::Snapshot,
    },
    entry("AWS::RDS::DBSubnetGroup", &[], &["DBSubnetGroupName"], Some("DBSubnetGroupName")),
    entry(
        "AWS::S3::Bucket",
        &["Arn", "DomainName", "DualStackDomainName", "RegionalDomainName", "WebsiteURL"],
        &["BucketName", "ObjectLockEnabled"],
        Some("BucketName"),
    ),
    entry("AWS::S3::BucketPolicy", &[], &["Bucket"], None),
    entry("AWS::SNS::Subscription", &["Arn"], &["Endpoint", "Protocol", "TopicArn"], None),
    entry("AWS::SNS::Topic", &["TopicArn", "TopicName"], &["FifoTopic", "TopicName"], Some("TopicName")),
    entry("AWS::SNS::TopicPolicy", &["Id"], &[], None),
    entry("AWS::SQS::Queue", &["Arn", "QueueName", "QueueUrl"], &["FifoQueue", "QueueName"], Some("QueueName")),
    entry("AWS::SQS::QueuePolicy", &["Id"], &[], None),
    entry("AWS::SecretsManager::Secret", &["Id"], &["Name"], Some("Name")),
    entry("AWS::SecretsManager::SecretTargetAttachment", &["Id"], &["SecretId"], None),
];

/// The catalog entry of a resource type, if the catalog knows it.
pub fn resource_type(name: &str) -> Option<&'static ResourceType> {
    CATALOG.iter().find(|known| known.name == name)
}

/// Every type the catalog knows, in name order.
pub fn catalog() -> &'static [ResourceType] {
    CATALOG
}

#[cfg(test)]
mod tests {
    use super::*;

    /// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-rds-dbinstance.html
    /// (return values: Endpoint.Address) and aws-attribute-deletionpolicy.html (Snapshot default).
    #[test]
    fn db_instance_attributes_and_default_policy() {
        let db = resource_type("AWS::RDS::DBInstance");
        assert!(db.is_some_and(|db| db.attributes.contains(&"Endpoint.Address")));
        assert_eq!(db.map(|db| db.default_deletion_policy), Some(DeletionPolicy::Snapshot));
        assert_eq!(resource_type("AWS::S3::Bucket").map(|b| b.default_deletion_policy), Some(DeletionPolicy::Delete));
    }

    /// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-subnet.html
    /// (CidrBlock: Update requires Replacement).
    #[test]
    fn subnet_cidr_change_requires_replacement() {
        assert!(resource_type("AWS::EC2::Subnet").is_some_and(|s| s.replacement_properties.contains(&"CidrBlock")));
        assert_eq!(resource_type("AWS::Nope::Nothing"), None);
    }

    /// The catalog covers every type of the lab's three templates.
    #[test]
    fn catalog_covers_the_lab_templates() {
        for body in [
            include_str!("../../../cloudformation/base.yaml"),
            include_str!("../../../cloudformation/application.yaml"),
            include_str!("../../../cloudformation/logging.yaml"),
        ] {
            for line in body.lines() {
                if let Some(name) = line.trim().strip_prefix("Type: ")
                    && name.starts_with("AWS::")
                {
                    assert!(resource_type(name).is_some(), "{name}");
                }
            }
        }
    }
}
