#!/usr/bin/env python3
"""test_template: deploy/pollux-asg.json parses and every reference in it resolves; the pieces are wired as an NLB + ASG appliance needs (TCP health checks on the service port, group across the subnets, launch template with the AMI)."""
import json
import re
import sys

PATH = sys.argv[1] if len(sys.argv) > 1 else "deploy/pollux-asg.json"
failed = checks = 0


def check(cond, what):
    global failed, checks
    checks += 1
    if not cond:
        failed += 1
        print("  FAIL", what)


t = json.load(open(PATH))
params, res = t.get("Parameters", {}), t.get("Resources", {})
check(t.get("AWSTemplateFormatVersion") == "2010-09-09", "template format version")
PSEUDO = {"AWS::StackName", "AWS::Region", "AWS::AccountId", "AWS::NoValue", "AWS::Partition", "AWS::URLSuffix"}
# Attributes CloudFormation documents for the types we use.
ATTRS = {
    "AWS::EC2::SecurityGroup": {"GroupId", "VpcId"},
    "AWS::EC2::LaunchTemplate": {"LatestVersionNumber", "DefaultVersionNumber", "LaunchTemplateId"},
    "AWS::ElasticLoadBalancingV2::LoadBalancer": {"DNSName", "LoadBalancerArn", "CanonicalHostedZoneID"},
    "AWS::ElasticLoadBalancingV2::TargetGroup": {"TargetGroupArn"},
}
KNOWN = {"AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress", "AWS::EC2::LaunchTemplate", "AWS::ElasticLoadBalancingV2::TargetGroup",
         "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ElasticLoadBalancingV2::Listener",
         "AWS::AutoScaling::AutoScalingGroup", "AWS::AutoScaling::ScalingPolicy"}
used_params = set()


def walk(node, where):
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            r = node["Ref"]
            check(r in params or r in res or r in PSEUDO, f"{where}: Ref {r} resolves")
            used_params.add(r)
        elif set(node) == {"Fn::GetAtt"}:
            name, attr = node["Fn::GetAtt"]
            check(name in res, f"{where}: GetAtt {name} is a resource")
            if name in res:
                check(attr in ATTRS.get(res[name]["Type"], set()), f"{where}: {name} has attribute {attr}")
        elif set(node) == {"Fn::Sub"}:
            for v in re.findall(r"\$\{([^}!]+)\}", node["Fn::Sub"]):
                base = v.split(".")[0]
                check(v in PSEUDO or base in params or base in res, f"{where}: Sub ${{{v}}} resolves")
        else:
            for k, v in node.items():
                walk(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, f"{where}[{i}]")


conds = t.get("Conditions", {})
walk(conds, "Conditions")
for name, r in list(res.items()) + list(t.get("Outputs", {}).items()):
    check("Condition" not in r or r["Condition"] in conds, f"{name}: its Condition is defined")
for name, r in res.items():
    check(r.get("Type") in KNOWN, f"{name}: known resource type {r.get('Type')}")
    walk(r.get("Properties", {}), name)
walk(t.get("Outputs", {}), "Outputs")
for p in params:
    check(p in used_params, f"parameter {p} is used")

ref = lambda x: {"Ref": x}
lt = res["LaunchTemplate"]["Properties"]["LaunchTemplateData"]
check(lt["ImageId"] == ref("AmiId"), "launch template boots the AMI parameter")
tg = res["TargetGroup"]["Properties"]
check(tg["Protocol"] == "TCP" and tg["HealthCheckProtocol"] == "TCP", "TCP target group, TCP health checks")
check(tg["Port"] == ref("ServicePort") and tg["HealthCheckPort"] == "traffic-port", "health checks on the service port")
lb = res["LoadBalancer"]["Properties"]
check(lb["Type"] == "network" and lb["Subnets"] == ref("SubnetIds"), "a Network Load Balancer in every subnet")
li = res["Listener"]["Properties"]
check(li["LoadBalancerArn"] == ref("LoadBalancer") and li["Port"] == ref("ServicePort"), "listener on the service port")
check(li["DefaultActions"][0]["TargetGroupArn"] == ref("TargetGroup"), "listener forwards to the target group")
asg = res["AutoScalingGroup"]["Properties"]
check(asg["VPCZoneIdentifier"] == ref("SubnetIds"), "group spans the subnets (zones)")
check(asg["LaunchTemplate"]["LaunchTemplateId"] == ref("LaunchTemplate"), "group launches from the template")
check(asg["TargetGroupARNs"] == [ref("TargetGroup")] and asg["HealthCheckType"] == "ELB", "group registers in the target group, ELB health")
check(params["SubnetIds"]["Type"] == "List<AWS::EC2::Subnet::Id>", "subnets are a list (several zones)")
check(int(params["MinSize"]["Default"]) >= 2, "at least two instances by default (one per zone)")
sg = res["ServiceSecurityGroup"]["Properties"]["SecurityGroupIngress"]
check(all(r["FromPort"] == ref("ServicePort") for r in sg), "only the service port is open to clients")
# The management port: open only to MetricsCidr, and only when one is given.
mi = res["MetricsIngress"]
check(mi["Condition"] == "MetricsOpen" and conds["MetricsOpen"] == {"Fn::Not": [{"Fn::Equals": [ref("MetricsCidr"), ""]}]},
      "the metrics port opens only when MetricsCidr is set")
mp = mi["Properties"]
check(mp["FromPort"] == mp["ToPort"] == ref("MetricsPort") and mp["CidrIp"] == ref("MetricsCidr") and
      mp["GroupId"] == {"Fn::GetAtt": ["ServiceSecurityGroup", "GroupId"]}, "the metrics rule: its port, its sources")
check(params["MetricsPort"]["Default"] == 9100 and params["MetricsCidr"]["Default"] == "",
      "metrics on 9100 (the image's default), closed by default")
check(res["ScaleOnNetworkIn"]["Properties"]["AutoScalingGroupName"] == ref("AutoScalingGroup"), "scaling policy on the group")

print(f"{'ok' if not failed else 'FAIL'}: {checks} checks, {failed} failed")
sys.exit(1 if failed else 0)
