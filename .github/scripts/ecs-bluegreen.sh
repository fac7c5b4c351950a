#!/usr/bin/env bash
# Blue-green deployment of one vms ECS service through AWS CodeDeploy (.github/workflows/deploy-prod.yml).
#
#   .github/scripts/ecs-bluegreen.sh IMAGE TASK_DEFINITION_ARN
#
# IMAGE is nginx or vmsd: the ECS service vms-prod-IMAGE (deployment controller CODE_DEPLOY, two target
# groups behind the ALB) and the CodeDeploy deployment group of the same name in application $APP.
# CodeDeploy starts the task definition as the replacement (green) task set, moves the listener to it,
# and rolls back by itself when the deployment fails or an alarm of the deployment group fires.
# Waits until the deployment succeeded; prints its id.
set -euo pipefail
image=$1 arn=$2
: "${APP:?APP: the CodeDeploy application}"
case "$image" in
    nginx) port=8443 ;;
    vmsd) port=8091 ;;
    *) echo "ecs-bluegreen: unknown image '$image' (nginx or vmsd)" >&2; exit 2 ;;
esac
appspec=$(jq -cn --arg arn "$arn" --arg name "$image" --argjson port "$port" \
  '{version: 0.0, Resources: [{TargetService: {Type: "AWS::ECS::Service",
    Properties: {TaskDefinition: $arn, LoadBalancerInfo: {ContainerName: $name, ContainerPort: $port}}}}]}')
revision=$(jq -cn --arg c "$appspec" '{revisionType: "AppSpecContent", appSpecContent: {content: $c}}')
id=$(aws deploy create-deployment --application-name "$APP" --deployment-group-name "vms-prod-$image" \
       --revision "$revision" --query deploymentId --output text)
echo "ecs-bluegreen: vms-prod-$image: deployment $id of $arn" >&2
aws deploy wait deployment-successful --deployment-id "$id"
echo "$id"
