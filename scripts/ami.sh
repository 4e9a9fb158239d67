#!/usr/bin/env bash
# ami.sh IMAGE: check a Pollux disk image and turn it into an arm64 and an x86_64 EC2 AMI (UEFI, ENA).
# With AWS credentials (awscli from Debian) it uploads to s3://$BUCKET, imports the snapshot, waits,
# registers both AMIs and prints their IDs, a run-instances line and how to read the serial console.
# Without credentials it prints the exact commands it would run and exits 0.
#   BUCKET=my-bucket [REGION=eu-west-1] [NAME=pollux] [DRY=1] scripts/ami.sh build/pollux.img
set -euo pipefail

IMG=${1:-build/pollux.img}
BUCKET=${BUCKET:-}
NAME=${NAME:-pollux-$(date -u +%Y%m%d-%H%M%S)}
KEY=${KEY:-$NAME.img}
REGION=${REGION:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}

die() { echo "ami: $*" >&2; exit 1; }

# ---- 1. The image: a GPT disk, one EFI system partition, both loaders in it ----
[ -f "$IMG" ] || die "$IMG: no such image (make image first)"
table=$(sgdisk -p "$IMG" 2>/dev/null) || die "$IMG: no GPT partition table"
nparts=$(awk '/^Number/ {p=1; next} p && NF {n++} END {print n+0}' <<<"$table")
nesp=$(awk '/^Number/ {p=1; next} p && $6 == "EF00" {n++} END {print n+0}' <<<"$table")
[ "$nparts" -eq 1 ] && [ "$nesp" -eq 1 ] || die "$IMG: want exactly one partition, an ESP (found $nparts partitions, $nesp ESP)"
start=$(awk '/^Number/ {p=1; next} p && $6 == "EF00" {print $2}' <<<"$table")
export MTOOLS_SKIP_CHECK=1
listing=$(mdir -b -i "$IMG@@$((start * 512))" ::/EFI/BOOT 2>/dev/null) || die "$IMG: the ESP has no readable EFI/BOOT"
for f in BOOTX64.EFI BOOTAA64.EFI; do
	grep -qi "/$f\$" <<<"$listing" || die "$IMG: EFI/BOOT/$f missing from the ESP"
done
echo "ami: $IMG: GPT, one ESP at sector $start, EFI/BOOT/BOOTX64.EFI and BOOTAA64.EFI present"

# ---- 2. Credentials? Without them, or with DRY=1, print what would run ----
live=0
if [ "${DRY:-0}" != 1 ] && command -v aws >/dev/null 2>&1 && aws sts get-caller-identity >/dev/null 2>&1; then
	live=1
fi
R=()
[ -n "$REGION" ] && R=(--region "$REGION")
if [ $live = 1 ] && [ -z "$BUCKET" ]; then
	die "BUCKET= is needed: the S3 bucket the image is imported from"
fi
B=${BUCKET:-BUCKET}

show() { printf '  %q' "$1"; shift; printf ' %q' "$@"; echo; }
run() {
	if [ $live = 1 ]; then
		"$@"
	else
		show "$@"
	fi
}

if [ $live = 0 ]; then
	echo "ami: no AWS credentials (or DRY=1): these are the commands, in order"
	echo "     (the import needs the 'vmimport' service role; see AWS VM Import/Export)"
fi
run aws "${R[@]}" s3 cp "$IMG" "s3://$B/$KEY"
container="Format=RAW,UserBucket={S3Bucket=$B,S3Key=$KEY}"
if [ $live = 1 ]; then
	task=$(aws "${R[@]}" ec2 import-snapshot --description "$NAME" --disk-container "$container" \
		--query ImportTaskId --output text)
	echo "ami: import task $task"
	aws "${R[@]}" ec2 wait snapshot-imported --import-task-ids "$task"
	snap=$(aws "${R[@]}" ec2 describe-import-snapshot-tasks --import-task-ids "$task" \
		--query 'ImportSnapshotTasks[0].SnapshotTaskDetail.SnapshotId' --output text)
	echo "ami: snapshot $snap"
else
	show aws "${R[@]}" ec2 import-snapshot --description "$NAME" --disk-container "$container" \
		--query ImportTaskId --output text
	echo "  # -> TASK"
	show aws "${R[@]}" ec2 wait snapshot-imported --import-task-ids TASK
	show aws "${R[@]}" ec2 describe-import-snapshot-tasks --import-task-ids TASK \
		--query 'ImportSnapshotTasks[0].SnapshotTaskDetail.SnapshotId' --output text
	echo "  # -> SNAPSHOT"
	snap=SNAPSHOT
fi

declare -A ami
for arch in arm64 x86_64; do
	args=(ec2 register-image --name "$NAME-$arch" --description "Pollux network appliance ($arch)"
		--architecture "$arch" --boot-mode uefi --ena-support --virtualization-type hvm
		--root-device-name /dev/xvda
		--block-device-mappings "DeviceName=/dev/xvda,Ebs={SnapshotId=$snap,VolumeType=gp3,DeleteOnTermination=true}"
		--query ImageId --output text)
	if [ $live = 1 ]; then
		ami[$arch]=$(aws "${R[@]}" "${args[@]}")
	else
		show aws "${R[@]}" "${args[@]}"
		ami[$arch]=AMI_$arch
	fi
done

echo
echo "ami: arm64 AMI ${ami[arm64]}, x86_64 AMI ${ami[x86_64]}"
echo "ami: to launch (Graviton; use an x86 type such as m6i.large with the x86_64 AMI):"
show aws "${R[@]}" ec2 run-instances --image-id "${ami[arm64]}" --instance-type c7g.large --count 1 \
	--subnet-id SUBNET --security-group-ids SECURITY_GROUP \
	--tag-specifications "ResourceType=instance,Tags=[{Key=Name,Value=$NAME}]"
echo "ami: the console (statistics, boot log):"
show aws "${R[@]}" ec2 get-console-output --instance-id INSTANCE --latest --output text
echo "     interactive: enable it once per account and region, then use the EC2 serial console"
show aws "${R[@]}" ec2 enable-serial-console-access
echo "     (EC2 console: Instance, Connect, EC2 serial console; or send-serial-console-ssh-public-key)"
echo "ami: to scale out behind a load balancer: deploy/pollux-asg.json (CloudFormation)"
