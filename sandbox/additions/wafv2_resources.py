"""AWS WAFv2 ListResourcesForWebACL, which moto lacks; answered from the associations moto's wafv2 backend keeps
(AssociateWebACL / DisassociateWebACL), so moto stays the one source of truth.
"""

from sandbox.additions import AdditionError, addition

_RESOURCE_KINDS = {
    "APPLICATION_LOAD_BALANCER": ":elasticloadbalancing:",
    "API_GATEWAY": ":apigateway:",
    "APPSYNC": ":appsync:",
    "COGNITO_USER_POOL": ":cognito-idp:",
    "APP_RUNNER_SERVICE": ":apprunner:",
    "VERIFIED_ACCESS_INSTANCE": ":ec2:",
    "AMPLIFY": ":amplify:",
}


def _example(client):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.7.{n}.0/24", AvailabilityZone=f"us-east-1{zone}")["Subnet"][
            "SubnetId"
        ]
        for n, zone in ((1, "a"), (2, "b"))
    ]
    alb = client("elbv2").create_load_balancer(Name="example-waf-alb", Subnets=subnets)["LoadBalancers"][0]
    visibility = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "example"}
    acl = client("wafv2").create_web_acl(
        Name="example-resources", Scope="REGIONAL", DefaultAction={"Allow": {}}, VisibilityConfig=visibility
    )["Summary"]["ARN"]
    client("wafv2").associate_web_acl(WebACLArn=acl, ResourceArn=alb["LoadBalancerArn"])
    return {"WebACLArn": acl, "ResourceType": "APPLICATION_LOAD_BALANCER"}


@addition("wafv2", "ListResourcesForWebACL", example=_example)
def list_resources_for_web_acl(ctx):
    arn = ctx.require("WebACLArn")
    kind = ctx.param("ResourceType") or "APPLICATION_LOAD_BALANCER"
    if kind not in _RESOURCE_KINDS:
        raise AdditionError("WAFInvalidParameterException", f"ResourceType {kind} is not valid")
    acl = ctx.backend("wafv2").wacls.get(arn)
    if acl is None:
        raise AdditionError(
            "WAFNonexistentItemException", "AWS WAF couldn't perform the operation because your resource doesn't exist."
        )
    return {"ResourceArns": [r for r in acl.associated_resources if _RESOURCE_KINDS[kind] in r]}
