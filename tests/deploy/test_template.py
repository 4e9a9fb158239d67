#!/usr/bin/env python3
"""test_template: deploy/pollux-asg.json parses and every reference in it resolves (Ref, GetAtt, Sub, and
every condition an Fn::If or a Condition names); the pieces are wired as an NLB + ASG appliance needs (TCP
health checks on the service port, group across the subnets, launch template with the AMI). Its conditions
are evaluated here for each choice of IpAddressType: ipv4 renders exactly the template as it was before
dual-stack (tests/deploy/pollux-asg-ipv4.json; change that file only to change the IPv4 deployment on
purpose), dualstack renders a dual-stack NLB, IPv6 ingress on the service port and instances with a
primary IPv6 address."""
import copy
import json
import os
import re
import sys

PATH = sys.argv[1] if len(sys.argv) > 1 else "deploy/pollux-asg.json"
IPV4_BEFORE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pollux-asg-ipv4.json")
failed = checks = 0


def check(cond, what):
    global failed, checks
    checks += 1
    if not cond:
        failed += 1
        print("  FAIL", what)


t = json.load(open(PATH))
params, res = t.get("Parameters", {}), t.get("Resources", {})
conds = t.get("Conditions", {})
check(t.get("AWSTemplateFormatVersion") == "2010-09-09", "template format version")
PSEUDO = {"AWS::StackName", "AWS::Region", "AWS::AccountId", "AWS::NoValue", "AWS::Partition", "AWS::URLSuffix"}
NOVALUE = {"Ref": "AWS::NoValue"}
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
# The values CloudFormation accepts for the address-type properties the template sets.
ADDRESS_TYPES = {("AWS::ElasticLoadBalancingV2::LoadBalancer", "IpAddressType"): {"ipv4", "dualstack"},
                 ("AWS::ElasticLoadBalancingV2::TargetGroup", "IpAddressType"): {"ipv4", "ipv6"}}
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
        elif set(node) == {"Fn::If"}:
            arg = node["Fn::If"]
            check(isinstance(arg, list) and len(arg) == 3, f"{where}: Fn::If has a condition and two values")
            check(arg[0] in conds, f"{where}: Fn::If names condition {arg[0]}, which is defined")
            for i, v in enumerate(arg[1:]):
                walk(v, f"{where}.Fn::If[{i + 1}]")
        elif set(node) == {"Condition"}:
            check(node["Condition"] in conds, f"{where}: condition {node['Condition']} is defined")
        elif set(node) == {"Fn::Equals"}:
            a, b = node["Fn::Equals"]
            # A literal compared with a parameter that lists its values must be one of them (a typo would
            # make the condition false for every choice).
            for x, y in ((a, b), (b, a)):
                if isinstance(x, dict) and set(x) == {"Ref"} and "AllowedValues" in params.get(x["Ref"], {}):
                    check(y in params[x["Ref"]]["AllowedValues"], f"{where}: {y!r} is one of {x['Ref']}'s values")
            walk(a, f"{where}.Fn::Equals[0]")
            walk(b, f"{where}.Fn::Equals[1]")
        else:
            for k, v in node.items():
                walk(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, f"{where}[{i}]")


walk(conds, "Conditions")
for name, r in list(res.items()) + list(t.get("Outputs", {}).items()):
    check("Condition" not in r or r["Condition"] in conds, f"{name}: its Condition is defined")
for name, r in res.items():
    check(r.get("Type") in KNOWN, f"{name}: known resource type {r.get('Type')}")
    walk(r.get("Properties", {}), name)
walk(t.get("Outputs", {}), "Outputs")
for p in params:
    check(p in used_params, f"parameter {p} is used")


# --- Conditions evaluated: the template as CloudFormation renders it for given parameter values.
def operand(x, values):
    if isinstance(x, dict) and set(x) == {"Ref"}:
        return values[x["Ref"]]
    if isinstance(x, dict):
        raise ValueError(f"operand {x} is not a literal or a Ref to a parameter")
    return x


def cond_value(expr, values, cdefs, seen=()):
    if isinstance(expr, dict) and len(expr) == 1:
        (fn, arg), = expr.items()
        if fn == "Condition":
            if arg in seen:
                raise ValueError(f"condition {arg} depends on itself")
            return cond_value(cdefs[arg], values, cdefs, seen + (arg,))
        if fn == "Fn::Equals":
            return str(operand(arg[0], values)) == str(operand(arg[1], values))
        if fn == "Fn::Not":
            return not cond_value(arg[0], values, cdefs, seen)
        if fn == "Fn::And":
            return all(cond_value(a, values, cdefs, seen) for a in arg)
        if fn == "Fn::Or":
            return any(cond_value(a, values, cdefs, seen) for a in arg)
    raise ValueError(f"not a condition: {expr}")


def resolve(node, cv):
    """Fn::If taken by the conditions' values; AWS::NoValue drops the property or list item."""
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return resolve(yes if cv[name] else no, cv)
        out = {k: resolve(v, cv) for k, v in node.items()}
        return {k: v for k, v in out.items() if v != NOVALUE}
    if isinstance(node, list):
        return [x for x in (resolve(v, cv) for v in node) if x != NOVALUE]
    return node


def render(tmpl, overrides):
    values = {p: str(d.get("Default", "")) for p, d in tmpl.get("Parameters", {}).items()}
    values.update(overrides)
    cdefs = tmpl.get("Conditions", {})
    cv = {c: cond_value(e, values, cdefs) for c, e in cdefs.items()}
    out = {}
    for sect in ("Resources", "Outputs"):
        out[sect] = {n: resolve(copy.deepcopy(r), cv) for n, r in tmpl.get(sect, {}).items()
                     if "Condition" not in r or cv[r["Condition"]]}
    return out


ref = lambda x: {"Ref": x}
SG_ID = {"Fn::GetAtt": ["ServiceSecurityGroup", "GroupId"]}


def ingress(rendered):
    """Every ingress rule of the service's security group: inline or its own resource."""
    rules = []
    for r in rendered["Resources"].values():
        if r["Type"] == "AWS::EC2::SecurityGroup":
            rules += r["Properties"].get("SecurityGroupIngress", [])
        elif r["Type"] == "AWS::EC2::SecurityGroupIngress":
            check(r["Properties"].get("GroupId") == SG_ID, "an ingress resource adds to the service's group")
            rules.append(r["Properties"])
    return rules


def wiring(rd, label):
    """What every choice must keep: an NLB + ASG appliance on the service port."""
    R = rd["Resources"]
    for name, r in R.items():
        for key, allowed in ADDRESS_TYPES.items():
            if r["Type"] == key[0] and key[1] in r["Properties"]:
                check(r["Properties"][key[1]] in allowed, f"{label}: {name} {key[1]} is one of {sorted(allowed)}")
    check("Fn::If" not in json.dumps(rd), f"{label}: every Fn::If resolved")
    lt = R["LaunchTemplate"]["Properties"]["LaunchTemplateData"]
    check(lt["ImageId"] == ref("AmiId"), f"{label}: launch template boots the AMI parameter")
    nics = lt.get("NetworkInterfaces", [])
    # EC2: with a network interface in the launch template, its security groups go in the interface.
    check(("SecurityGroupIds" in lt) != bool(nics), f"{label}: security groups either on the instance or in its interface")
    check((lt.get("SecurityGroupIds") or nics[0].get("Groups")) == [SG_ID], f"{label}: instances in the service's security group")
    tg = R["TargetGroup"]["Properties"]
    check(tg["Protocol"] == "TCP" and tg["HealthCheckProtocol"] == "TCP", f"{label}: TCP target group, TCP health checks")
    check(tg["Port"] == ref("ServicePort") and tg["HealthCheckPort"] == "traffic-port", f"{label}: health checks on the service port")
    lb = R["LoadBalancer"]["Properties"]
    check(lb["Type"] == "network" and lb["Subnets"] == ref("SubnetIds"), f"{label}: a Network Load Balancer in every subnet")
    # ELB: IPv6 target groups only behind a dual-stack load balancer; internal ones must be ipv4.
    if tg.get("IpAddressType") == "ipv6":
        check(lb.get("IpAddressType") == "dualstack", f"{label}: an IPv6 target group only behind a dual-stack NLB")
    if lb.get("IpAddressType", "ipv4") != "ipv4":
        check(lb["Scheme"] == "internet-facing", f"{label}: a dual-stack NLB is internet-facing")
    li = R["Listener"]["Properties"]
    check(li["LoadBalancerArn"] == ref("LoadBalancer") and li["Port"] == ref("ServicePort"), f"{label}: listener on the service port")
    check(li["Protocol"] == "TCP" and li["DefaultActions"][0]["TargetGroupArn"] == ref("TargetGroup"),
          f"{label}: TCP listener forwards to the target group")
    asg = R["AutoScalingGroup"]["Properties"]
    check(asg["VPCZoneIdentifier"] == ref("SubnetIds"), f"{label}: group spans the subnets (zones)")
    check(asg["LaunchTemplate"]["LaunchTemplateId"] == ref("LaunchTemplate"), f"{label}: group launches from the template")
    check(asg["TargetGroupARNs"] == [ref("TargetGroup")] and asg["HealthCheckType"] == "ELB",
          f"{label}: group registers in the target group, ELB health")
    check(R["ScaleOnNetworkIn"]["Properties"]["AutoScalingGroupName"] == ref("AutoScalingGroup"), f"{label}: scaling policy on the group")
    # Open ports: the service port to clients, the metrics port only to its own sources.
    for rule in ingress(rd):
        port = rule.get("FromPort")
        check(rule.get("ToPort") == port and port in (ref("ServicePort"), ref("MetricsPort")),
              f"{label}: only the service and metrics ports are open ({port})")
        if port == ref("MetricsPort"):
            check(rule.get("CidrIp") == ref("MetricsCidr") or rule.get("CidrIpv6") == ref("MetricsCidrIpv6"),
                  f"{label}: the metrics port opens only to MetricsCidr or MetricsCidrIpv6")


check(params["SubnetIds"]["Type"] == "List<AWS::EC2::Subnet::Id>", "subnets are a list (several zones)")
check(int(params["MinSize"]["Default"]) >= 2, "at least two instances by default (one per zone)")
check(params["MetricsPort"]["Default"] == 9100 and params["MetricsCidr"]["Default"] == "",
      "metrics on 9100 (the image's default), closed by default")
check(conds.get("MetricsOpen") == {"Fn::Not": [{"Fn::Equals": [ref("MetricsCidr"), ""]}]}, "MetricsOpen: MetricsCidr is set")
ipt = params.get("IpAddressType", {})
check(ipt.get("AllowedValues") == ["ipv4", "dualstack"] and ipt.get("Default") == "ipv4",
      "IpAddressType: ipv4 (the default) or dualstack")
check(params.get("ClientCidrIpv6", {}).get("Default") == "::/0", "IPv6 clients from anywhere by default, as IPv4 ones")
check(params.get("MetricsCidrIpv6", {}).get("Default") == "", "metrics port closed to IPv6 by default")
for p in ("IpAddressType", "SubnetIds"):
    check("IPv6 CIDR" in params.get(p, {}).get("Description", ""), f"{p}: its description says dualstack needs subnets with IPv6 CIDR blocks")

METRICS4, METRICS6 = {"MetricsCidr": "10.1.0.0/16"}, {"MetricsCidrIpv6": "2001:db8:1::/56"}
before = json.load(open(IPV4_BEFORE))

# ipv4: what was deployed before dual-stack, whatever the IPv6 parameters say.
for extra in ({}, METRICS4, {**METRICS4, **METRICS6, "ClientCidrIpv6": "2001:db8::/32", "TargetIpAddressType": "ipv6"}):
    label = f"ipv4 {sorted(extra)}"
    try:
        rd = render(t, {"IpAddressType": "ipv4", **extra})
    except (KeyError, ValueError) as e:
        check(False, f"{label}: conditions evaluate ({e!r})")
        continue
    wiring(rd, label)
    old = render(before, extra)
    check(rd == old, f"{label}: resources and outputs exactly as before dual-stack")
    for name in set(rd["Resources"]) | set(old["Resources"]):
        if rd["Resources"].get(name) != old["Resources"].get(name):
            print(f"    {name}: now {json.dumps(rd['Resources'].get(name))}\n    {' ' * len(name)}  was {json.dumps(old['Resources'].get(name))}")
    check(not any("CidrIpv6" in r for r in ingress(rd)), f"{label}: no IPv6 ingress")

# dualstack: the NLB answers both families; instances have an IPv6 address and take IPv6 on the service port.
for targets in ("ipv6", "ipv4"):
    for extra in ({}, {**METRICS4, **METRICS6}):
        label = f"dualstack, {targets} targets {sorted(extra)}"
        try:
            rd = render(t, {"IpAddressType": "dualstack", "TargetIpAddressType": targets, **extra})
        except (KeyError, ValueError) as e:
            check(False, f"{label}: conditions evaluate ({e!r})")
            continue
        wiring(rd, label)
        R = rd["Resources"]
        check(R["LoadBalancer"]["Properties"].get("IpAddressType") == "dualstack", f"{label}: NLB IpAddressType dualstack")
        check(R["TargetGroup"]["Properties"].get("IpAddressType", "ipv4") == targets, f"{label}: target group IpAddressType {targets}")
        rules = ingress(rd)
        check(any(r.get("CidrIpv6") == ref("ClientCidrIpv6") and r.get("IpProtocol") == "tcp" and
                  r.get("FromPort") == r.get("ToPort") == ref("ServicePort") for r in rules),
              f"{label}: the service port open to ClientCidrIpv6")
        check(any(r.get("CidrIp") == ref("ClientCidr") for r in rules) and any(r.get("CidrIp") == ref("HealthCheckCidr") for r in rules),
              f"{label}: IPv4 clients and health checks still let in")
        m6 = [r for r in rules if r.get("FromPort") == ref("MetricsPort") and "CidrIpv6" in r]
        check(len(m6) == (1 if extra else 0), f"{label}: the metrics port open over IPv6 exactly when MetricsCidrIpv6 is set")
        nics = R["LaunchTemplate"]["Properties"]["LaunchTemplateData"].get("NetworkInterfaces", [])
        eth0 = next((n for n in nics if n.get("DeviceIndex") == 0), {})
        check(eth0.get("Ipv6AddressCount", 0) >= 1, f"{label}: instances get an IPv6 address (eth0 Ipv6AddressCount)")
        # ELB registers an instance in an IPv6 target group at its primary IPv6 address.
        check(eth0.get("PrimaryIpv6") is True, f"{label}: that address is the instance's primary IPv6 address")

print(f"{'ok' if not failed else 'FAIL'}: {checks} checks, {failed} failed")
sys.exit(1 if failed else 0)
